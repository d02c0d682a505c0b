using Npgsql;
using Reliability.Client.Infrastructure;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Sagas;

/// <summary>A saga whose silo process is killed with SIGKILL while a step is in flight.</summary>
public sealed class SagaProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SiloProcessKilledMidStep_TheSagaResumesOnAnotherSilo_AndFinishesWithoutDoubleEffects()
    {
        var connectionString = await TestDatabase.CreateAsync("saga-process");
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string>
        {
            ["Logging:Format"] = "simple",
            ["Sagas:KeepAlivePeriod"] = "00:00:02",
            // The delay keeps the step in flight long enough to kill its silo; the step timeout must outlast it,
            // or every attempt times out (3 s and 3 s raced, and under load the saga compensated).
            ["Sagas:Faults:record-payment:Delay"] = "00:00:03",
            ["Sagas:StepTimeout"] = "00:00:08",
        });
        var silos = Enumerable.Range(0, 3).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(silos.Select(s => cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), startup.Token)));
        await using var connection = await ClusterConnection.ConnectAsync(new ClusterTarget(connectionString, "reliability", "reliability", []), startup.Token);
        var client = connection.Client;
        await client.GetGrain<IAccountGrain>("alice").Open("open", 100m);
        await client.GetGrain<IAccountGrain>("bob").Open("open", 0m);
        var saga = client.GetGrain<ISagaGrain>("transfer-t1");

        await saga.StartWorkflow(SagaDefinitions.Transfer("t1", "alice", "bob", 30m));
        SagaHistoryEntry? inFlight = null;
        while (inFlight is null)
        {
            inFlight = (await saga.Get())!.History.FirstOrDefault(h => h.StepName == "record-payment" && h.Outcome == "started");
            await Task.Delay(20);
        }

        silos.Single(s => s.Endpoint.Name == inFlight.Silo).Kill();
        var finished = await new SagaWaiter(client).WaitAsync("transfer-t1", TimeSpan.FromSeconds(90));

        output.WriteLine($"killed {inFlight.Silo}");
        output.WriteLine(string.Join(Environment.NewLine, finished.History.Select(h => $"{h.At:HH:mm:ss.fff} {h.Silo} {h.StepName} #{h.Attempt} {h.Outcome} {h.Detail}")));
        Assert.Equal(SagaStatus.Completed, finished.Status);
        Assert.Contains(finished.History, h => h.StepName == "record-payment" && h.Outcome == "succeeded" && h.Silo != inFlight.Silo);
        Assert.Equal(70m, (await client.GetGrain<IAccountGrain>("alice").Get()).Balance);
        Assert.Equal(30m, (await client.GetGrain<IAccountGrain>("bob").Get()).Balance);
        Assert.Equal(1, await CountEventsAsync(connectionString, StoreNames.Payments, "transfer-t1/1"));
        Assert.Equal(1, await CountEventsAsync(connectionString, StoreNames.Accounts, "transfer-t1/2"));
    }

    private static async Task<long> CountEventsAsync(string connectionString, string store, string commandId)
    {
        await using var connection = new NpgsqlConnection(new DatabaseOptions { ConnectionString = connectionString }.ConnectionStringFor(store));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM events WHERE command_id = @id", connection);
        command.Parameters.AddWithValue("id", commandId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
