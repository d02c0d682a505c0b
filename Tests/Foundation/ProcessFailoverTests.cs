using Reliability.Client.Bench;
using Reliability.Client.Infrastructure;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Foundation;

/// <summary>Real silo processes, a real kill -9, and a client that never stops calling.</summary>
public sealed class ProcessFailoverTests(ITestOutputHelper output)
{
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
        var probe = new FailoverProbe(connection.Client, "failover");

        var result = await probe.RunAsync(victim =>
        {
            silos.Single(s => s.Endpoint.Name == victim).Kill();
            return Task.CompletedTask;
        }, warmUp: TimeSpan.FromSeconds(3), patience: TimeSpan.FromSeconds(60));

        output.WriteLine($"victim {result.Victim} hosted {result.KeysOnVictim}/{result.Keys} keys; recovery {result.Recovery.TotalMilliseconds:0} ms; " +
                         $"acknowledged {result.Acknowledged}, failed {result.Failed}");
        Assert.True(result.Recovered, $"Grains of the killed silo did not answer within 60 s; see {logs}.");
        Assert.True(result.Recovery < TimeSpan.FromSeconds(20), $"Recovery took {result.Recovery.TotalSeconds:0.0} s.");
        Assert.Empty(result.LostWrites);
    }
}
