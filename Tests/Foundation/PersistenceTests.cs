using Npgsql;
using Reliability.Diagnostics;
using Reliability.Infrastructure;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Foundation;

[Collection(ClusterCollection.Name)]
public sealed class PersistenceTests(ClusterFixture fixture)
{
    [Fact]
    public async Task PersistedGrain_AfterDeactivation_ReloadsItsStateFromPostgres()
    {
        var counter = fixture.Client.GetGrain<ICounterGrain>($"deactivate-{Guid.NewGuid():N}");
        await counter.Add(5);
        await counter.Add(7);

        await fixture.Cluster.DeactivateAsync(counter);
        var reloaded = await counter.Get();

        Assert.Equal(12, reloaded.Total);
        Assert.Equal(2, reloaded.Writes);
        Assert.True(await CountStoredCountersAsync(fixture.Database) >= 1);
    }

    [Fact]
    public async Task PersistedGrain_WhenItsSiloStops_ReactivatesOnAnotherSiloWithItsState()
    {
        var (cluster, _) = await TestClusters.StartAsync("persist-failover");
        await using var _ = cluster;
        var counter = cluster.Client.GetGrain<ICounterGrain>("survivor");
        var before = await counter.Add(3);

        await cluster.StopSiloAsync(cluster.SiloNamed(before.Silo));
        var after = await counter.Add(4);

        Assert.NotEqual(before.Silo, after.Silo);
        Assert.Equal(7, after.Total);
        Assert.Equal(2, after.Writes);
    }

    private static async Task<long> CountStoredCountersAsync(DatabaseOptions database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(StoreNames.Diagnostics));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM orleansstorage WHERE graintypestring = 'counter' AND payloadbinary IS NOT NULL", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
