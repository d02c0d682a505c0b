using Npgsql;
using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Sagas;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Foundation;

/// <summary>
/// Every silo start ensures the keep-alive reminders (saga supervisor, idempotency sweeper, projection
/// runners). Registering again moves a reminder's first tick to a period from now, so with silos
/// restarting more often than the period the reminder would never tick.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class KeepAliveReminderTests(ClusterFixture fixture)
{
    [Fact]
    public async Task EnsureAgain_AsEverySiloStartDoes_LeavesEachNextTickWhereItWas()
    {
        var before = await KeepAliveRemindersAsync();
        await Task.Delay(50);

        await fixture.Client.GetGrain<ISagaSupervisorGrain>(ISagaSupervisorGrain.DefaultKey).Ensure();
        await fixture.Client.GetGrain<IIdempotencySweeperGrain>(IIdempotencySweeperGrain.DefaultKey).Ensure();
        foreach (var projection in ProjectionNames.All)
        {
            await fixture.Client.GetGrain<IProjectionRunnerGrain>(projection).Ensure();
        }

        var after = await KeepAliveRemindersAsync();

        Assert.Equal(2 + ProjectionNames.All.Count, before.Count);
        Assert.Equal(before, after);
    }

    private async Task<List<string>> KeepAliveRemindersAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionStringFor(StoreNames.Cluster));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT grainid || ' ' || remindername || ' ' || starttime::text || ' ' || period::text FROM orleansreminderstable
             WHERE remindername IN ('supervise', 'sweep', 'keep-alive') ORDER BY 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
