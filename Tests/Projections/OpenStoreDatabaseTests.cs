using Npgsql;
using Reliability.Infrastructure;
using Reliability.Projections.Scripts;
using Reliability.Services.EventStore;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>"A database per service" for open stores: one named in Database:Stores gets its events there, and nowhere else.</summary>
public sealed class OpenStoreDatabaseTests
{
    [Fact]
    public async Task AStoreGivenADatabaseOfItsOwn_GetsItsTableAndItsEventsThere_AndOthersStayInTheSharedOne()
    {
        var shared = await TestDatabase.CreateAsync("open-shared");
        var own = await TestDatabase.CreateAsync("open-own");
        var database = new DatabaseOptions { ConnectionString = shared, Stores = { ["billing"] = own } };
        await SchemaInstaller.ApplyAsync(StoreCatalog.All.Single(s => s.Name == StoreNames.Projections), database.ConnectionStringFor(StoreNames.Projections), CancellationToken.None);
        await using var catalogStore = new PostgresOpenCatalogStore(database);
        var catalog = new OpenCatalog(catalogStore, OpenCatalog.SchemaMaker(database), TimeProvider.System);
        await using var stores = new PostgresEventStores(database);

        await catalog.CreateStoreAsync("billing", CancellationToken.None);
        await catalog.CreateStoreAsync("shop", CancellationToken.None);
        await stores.For("billing").AppendAsync("invoice-1", 0, [new EventData("Issued", "{}", Guid.NewGuid().ToString())], idOnEveryEvent: true);
        await stores.For("shop").AppendAsync("order-1", 0, [new EventData("Placed", "{}", Guid.NewGuid().ToString())], idOnEveryEvent: true);

        Assert.Equal(1L, await ScalarAsync(own, "SELECT count(*) FROM events WHERE stream_id = 'invoice-1'"));
        Assert.Equal(0L, await ScalarAsync(shared, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'billing'"));
        Assert.Equal(1L, await ScalarAsync(new NpgsqlConnectionStringBuilder(shared) { SearchPath = "shop" }.ConnectionString, "SELECT count(*) FROM events"));
        Assert.Equal(0L, await ScalarAsync(own, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'shop'"));
        Assert.Equal(["billing", "shop"], (await catalog.ListStoresAsync()).Select(s => s.Name).ToArray());
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
