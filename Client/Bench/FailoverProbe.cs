using System.Collections.Concurrent;
using System.Diagnostics;
using Reliability.Diagnostics;

namespace Reliability.Client.Bench;

/// <summary>The outcome of one kill: how long the killed silo's grains were unreachable, and what was written.</summary>
public sealed record FailoverResult(string Victim, int KeysOnVictim, int Keys, bool Recovered, TimeSpan Recovery, long Acknowledged, long Failed, IReadOnlyList<string> LostWrites);

/// <summary>
/// Keeps persisted counters busy from several workers, kills a silo through <c>kill</c>, and measures
/// how long until every counter that lived on it answers again. Each acknowledged Add is counted; a
/// failed Add may or may not have been applied, so the final total must lie in [acknowledged, acknowledged + failed].
/// </summary>
public sealed class FailoverProbe(IClusterClient client, string keyPrefix, int keys = 16, int workers = 8)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<int, (long Acknowledged, long Unknown, string? Host)> _ledger = new();
    private readonly ConcurrentDictionary<int, TimeSpan> _firstSuccessAfterKill = new();
    private TimeSpan _killedAt = TimeSpan.MaxValue;

    public async Task<FailoverResult> RunAsync(Func<string, Task> kill, TimeSpan warmUp, TimeSpan patience)
    {
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, workers).Select(w => DriveAsync(w, stop.Token)).ToList();
        await Task.Delay(warmUp);

        var victim = HostOf(0) ?? throw new InvalidOperationException("No call succeeded before the kill: the cluster is not serving.");
        var onVictim = Enumerable.Range(0, keys).Where(k => HostOf(k) == victim).ToList();
        _killedAt = _clock.Elapsed;
        await kill(victim);

        var deadline = _clock.Elapsed + patience;
        while (_clock.Elapsed < deadline && !onVictim.All(_firstSuccessAfterKill.ContainsKey))
        {
            await Task.Delay(50);
        }

        var recovered = onVictim.All(_firstSuccessAfterKill.ContainsKey);
        var recovery = onVictim.Count == 0 ? TimeSpan.Zero : onVictim.Max(k => _firstSuccessAfterKill.GetValueOrDefault(k, _clock.Elapsed) - _killedAt);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var lost = new List<string>();
        for (var key = 0; key < keys; key++)
        {
            var total = await TotalAsync(key);
            var (acknowledged, unknown, _) = _ledger.GetValueOrDefault(key);
            if (total < acknowledged || total > acknowledged + unknown)
            {
                lost.Add($"{KeyName(key)}: total {total}, acknowledged {acknowledged}, unknown {unknown}");
            }
        }

        return new FailoverResult(victim, onVictim.Count, keys, recovered, recovery,
            _ledger.Values.Sum(v => v.Acknowledged), _ledger.Values.Sum(v => v.Unknown), lost);
    }

    /// <summary>
    /// A counter's total, asked again while the cluster still routes the first call to the killed silo (a
    /// stale directory or gateway entry answers "silo unavailable" once, then is dropped).
    /// </summary>
    private async Task<long> TotalAsync(int key)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await Counter(key).Get()).Total;
            }
            catch (Exception ex) when (attempt < 20 && ex is TimeoutException or OrleansException)
            {
                await Task.Delay(250);
            }
        }
    }

    private string KeyName(int key) => $"{keyPrefix}-{key}";

    private ICounterGrain Counter(int key) => client.GetGrain<ICounterGrain>(KeyName(key));

    private string? HostOf(int key) => _ledger.TryGetValue(key, out var v) ? v.Host : null;

    private async Task DriveAsync(int worker, CancellationToken stop)
    {
        var key = worker;
        while (!stop.IsCancellationRequested)
        {
            key = (key + 1) % keys;
            try
            {
                var snapshot = await Counter(key).Add(1);
                var now = _clock.Elapsed;
                _ledger.AddOrUpdate(key, _ => (1, 0, snapshot.Silo), (_, v) => (v.Acknowledged + 1, v.Unknown, snapshot.Silo));
                if (now > _killedAt)
                {
                    _firstSuccessAfterKill.TryAdd(key, now);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _ledger.AddOrUpdate(key, _ => (0, 1, null), (_, v) => (v.Acknowledged, v.Unknown + 1, v.Host));
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }
}
