using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Services;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>The batched view storage against a real PostgreSQL: batches, versions as ETags, conflicts, removal by generation.</summary>
public sealed class ViewStateStorageTests : IAsyncLifetime
{
    private const string State = "view";
    private DatabaseOptions _database = null!;
    private ViewStateStorage _storage = null!;

    public async Task InitializeAsync()
    {
        _database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("view-storage") };
        await SchemaInstaller.ApplyAsync(StoreCatalog.All.Single(s => s.Name == StoreNames.Projections), _database.ConnectionStringFor(StoreNames.Projections), CancellationToken.None);
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        _storage = new ViewStateStorage(_database.ConnectionStringFor(StoreNames.Projections), new OrleansGrainStorageSerializer(serializer));
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
    }

    private static GrainId View(string key) => GrainId.Create("customerordersview", key);

    private static CustomerOrders Orders(string customer, params string[] orders) =>
        new(customer, [.. orders.Select(o => new OrderSummary(o, customer, OrderStatus.Pending, [], 0m, PaymentStatus.None, [], 1, DateTimeOffset.UnixEpoch))]);

    [Fact]
    public async Task ManyConcurrentWritesOfNewViews_AllLand_AndReadBackWithVersionOne()
    {
        var keys = Enumerable.Range(0, 600).Select(i => $"v:orders:1:customer:c{i}").ToList();
        var states = keys.Select(k => new GrainState<CustomerOrders>(Orders(k, $"o-{k}"))).ToList();

        await Task.WhenAll(keys.Select((k, i) => _storage.WriteStateAsync(State, View(k), states[i])));
        var read = keys.Select(_ => new GrainState<CustomerOrders>()).ToList();
        await Task.WhenAll(keys.Select((k, i) => _storage.ReadStateAsync(State, View(k), read[i])));

        Assert.All(states, s => Assert.Equal("1", s.ETag));
        Assert.All(read, r => Assert.True(r.RecordExists));
        Assert.Equal(keys.Select(k => $"o-{k}"), read.Select(r => r.State!.Orders.Single().OrderId));
        Assert.Equal(600, await EventTables.ScalarAsync(_database, StoreNames.Projections, "SELECT count(*) FROM view_states"));
    }

    [Fact]
    public async Task AWriteWithAStaleVersion_IsRefused_AndTheCurrentOneWins()
    {
        var id = View("v:orders:1:customer:race");
        var first = new GrainState<CustomerOrders>(Orders("race", "a"));
        await _storage.WriteStateAsync(State, id, first);
        var stale = new GrainState<CustomerOrders>(Orders("race", "stale")) { ETag = first.ETag };

        first.State = Orders("race", "a", "b");
        await _storage.WriteStateAsync(State, id, first);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync(State, id, stale));
        var again = new GrainState<CustomerOrders>(Orders("race", "new"));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync(State, id, again));
        var read = new GrainState<CustomerOrders>();
        await _storage.ReadStateAsync(State, id, read);

        Assert.Equal("2", first.ETag);
        Assert.Equal("2", read.ETag);
        Assert.Equal(["a", "b"], read.State!.Orders.Select(o => o.OrderId));
    }

    [Fact]
    public async Task AMissingView_ReadsAsNew_AndAClearedOneIsGone()
    {
        var id = View("v:orders:1:customer:gone");
        var state = new GrainState<CustomerOrders>(Orders("gone", "x"));
        await _storage.WriteStateAsync(State, id, state);

        await _storage.ClearStateAsync(State, id, state);
        var read = new GrainState<CustomerOrders>();
        await _storage.ReadStateAsync(State, id, read);

        Assert.False(state.RecordExists);
        Assert.False(read.RecordExists);
        Assert.Empty(read.State!.Orders);
        // Cleared, not forgotten: the version goes on, so no later write can be mistaken for the old row.
        Assert.Equal("2", read.ETag);
        Assert.Equal(read.ETag, state.ETag);
    }

    /// <summary>
    /// Two activations of one view (a partition): the other one cleared the row and wrote it afresh. This
    /// one's write over the version it read before must fail, not land on the new row that happens to
    /// carry the same version number.
    /// </summary>
    [Fact]
    public async Task AStaleWriter_CannotWriteOverARowClearedAndWrittenAgain()
    {
        var id = View("v:orders:1:customer:aba");
        var first = new GrainState<CustomerOrders>(Orders("aba", "first"));
        await _storage.WriteStateAsync(State, id, first);
        var stale = new GrainState<CustomerOrders>(Orders("aba", "stale")) { ETag = first.ETag, RecordExists = true };

        await _storage.ClearStateAsync(State, id, first);
        var fresh = new GrainState<CustomerOrders>();
        await _storage.ReadStateAsync(State, id, fresh);
        fresh.State = Orders("aba", "fresh");
        await _storage.WriteStateAsync(State, id, fresh);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync(State, id, stale));
        var read = new GrainState<CustomerOrders>();
        await _storage.ReadStateAsync(State, id, read);
        Assert.Equal("fresh", read.State!.Orders.Single().OrderId);
    }

    [Fact]
    public async Task DeleteByPrefix_RemovesOneGenerationOnly()
    {
        foreach (var key in new[] { "v:orders:7:order:1", "v:orders:7:customer:c", "v:orders:8:order:1", "v:orders:70:order:1" })
        {
            await _storage.WriteStateAsync(State, View(key), new GrainState<CustomerOrders>(Orders(key)));
        }

        await using (var connection = new NpgsqlConnection(_database.ConnectionStringFor(StoreNames.Projections)))
        {
            await connection.OpenAsync();
            await using var batch = new NpgsqlBatch(connection) { BatchCommands = { ViewStateStorage.DeleteByPrefix(ViewKey.Prefix("orders", 7)) } };
            await batch.ExecuteNonQueryAsync();
        }

        Assert.Equal(0, await EventTables.ScalarAsync(_database, StoreNames.Projections, "SELECT count(*) FROM view_states WHERE grain_key LIKE 'v:orders:7:%'"));
        Assert.Equal(2, await EventTables.ScalarAsync(_database, StoreNames.Projections, "SELECT count(*) FROM view_states"));
    }
}
