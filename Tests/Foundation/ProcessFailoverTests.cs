using System.Collections.Concurrent;
using System.Diagnostics;
using Reliability.Client.Infrastructure;
using Reliability.Diagnostics;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Foundation;

/// <summary>Real silo processes, a real kill -9, and a client that never stops calling.</summary>
public sealed class ProcessFailoverTests(ITestOutputHelper output)
{
    private const int Keys = 16;
    private const int Workers = 8;

    [Fact]
    public async Task KillNineOfASilo_LosesNoAcknowledgedWrite_AndItsGrainsAnswerAgainWithinTheBound()
    {
        var connectionString = await TestDatabase.CreateAsync("process-failover");
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string> { ["Logging:Format"] = "simple" });
        var silos = Enumerable.Range(0, 2).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        foreach (var silo in silos)
        {
            await cluster.WaitUntilReadyAsync(silo, TimeSpan.FromSeconds(90), startup.Token);
        }

        await using var connection = await ClusterConnection.ConnectAsync(new ClusterTarget(connectionString, "reliability", "reliability", []), startup.Token);
        var ledger = new Ledger();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, Workers).Select(w => DriveAsync(connection.Client, ledger, w, stop.Token)).ToList();

        await Task.Delay(TimeSpan.FromSeconds(3));
        var victim = ledger.HostOf(0) ?? throw new InvalidOperationException("No call succeeded before the kill.");
        var keysOnVictim = Enumerable.Range(0, Keys).Where(k => ledger.HostOf(k) == victim).ToList();
        var killedAt = ledger.Now;
        silos.Single(s => s.Endpoint.Name == victim).Kill();

        var recovered = await ledger.WaitUntilAllSucceedAfterAsync(keysOnVictim, killedAt, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var recovery = ledger.RecoveryTime(keysOnVictim, killedAt);
        output.WriteLine($"victim {victim} hosted {keysOnVictim.Count}/{Keys} keys; recovery {recovery.TotalMilliseconds:0} ms; " +
                         $"acknowledged {ledger.TotalAcknowledged}, failed {ledger.TotalFailed}");
        Assert.True(recovered, $"Grains of the killed silo did not answer within 60 s; see {logs}.");
        Assert.True(recovery < TimeSpan.FromSeconds(20), $"Recovery took {recovery.TotalSeconds:0.0} s.");
        for (var key = 0; key < Keys; key++)
        {
            var total = (await connection.Client.GetGrain<ICounterGrain>(KeyName(key)).Get()).Total;
            var (acknowledged, unknown) = ledger.Outcomes(key);
            Assert.InRange(total, acknowledged, acknowledged + unknown);
        }
    }

    private static string KeyName(int key) => $"failover-{key}";

    private static async Task DriveAsync(IClusterClient client, Ledger ledger, int worker, CancellationToken stop)
    {
        var key = worker;
        while (!stop.IsCancellationRequested)
        {
            key = (key + 1) % Keys;
            try
            {
                var snapshot = await client.GetGrain<ICounterGrain>(KeyName(key)).Add(1).WaitAsync(TimeSpan.FromSeconds(10));
                ledger.Acknowledged(key, snapshot.Silo);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The write may or may not have happened: it is counted as unknown, never as acknowledged.
                ledger.Failed(key);
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    private sealed class Ledger
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentDictionary<int, (long Acknowledged, long Unknown, string? Host, TimeSpan LastSuccess)> _keys = new();
        private readonly ConcurrentDictionary<int, TimeSpan> _firstSuccessAfterKill = new();
        private TimeSpan _killedAt = TimeSpan.MaxValue;

        public TimeSpan Now => _clock.Elapsed;

        public long TotalAcknowledged => _keys.Values.Sum(v => v.Acknowledged);

        public long TotalFailed => _keys.Values.Sum(v => v.Unknown);

        public void Acknowledged(int key, string host)
        {
            var now = Now;
            _keys.AddOrUpdate(key, _ => (1, 0, host, now), (_, v) => (v.Acknowledged + 1, v.Unknown, host, now));
            if (now > _killedAt)
            {
                _firstSuccessAfterKill.TryAdd(key, now);
            }
        }

        public void Failed(int key) => _keys.AddOrUpdate(key, _ => (0, 1, null, TimeSpan.Zero), (_, v) => (v.Acknowledged, v.Unknown + 1, v.Host, v.LastSuccess));

        public string? HostOf(int key) => _keys.TryGetValue(key, out var v) ? v.Host : null;

        public (long Acknowledged, long Unknown) Outcomes(int key) => _keys.TryGetValue(key, out var v) ? (v.Acknowledged, v.Unknown) : (0, 0);

        public async Task<bool> WaitUntilAllSucceedAfterAsync(IReadOnlyList<int> keys, TimeSpan killedAt, TimeSpan timeout)
        {
            _killedAt = killedAt;
            var deadline = Now + timeout;
            while (Now < deadline)
            {
                if (keys.All(_firstSuccessAfterKill.ContainsKey))
                {
                    return true;
                }

                await Task.Delay(100);
            }

            return false;
        }

        public TimeSpan RecoveryTime(IReadOnlyList<int> keys, TimeSpan killedAt) =>
            keys.Count == 0 ? TimeSpan.Zero : keys.Max(k => _firstSuccessAfterKill.TryGetValue(k, out var t) ? t - killedAt : TimeSpan.MaxValue);
    }
}
