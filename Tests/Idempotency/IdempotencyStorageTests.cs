using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;
using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Idempotency;

/// <summary>The keys' batched storage against a real PostgreSQL.</summary>
public sealed class IdempotencyStorageTests
{
    /// <summary>
    /// A silo that starts while its database is not reachable (or its schema not yet there) must work once it
    /// is: the one-time look at the old table may not stay failed for the life of the silo.
    /// </summary>
    [Fact]
    public async Task AFirstWriteThatFailsBecauseTheDatabaseIsNotReady_DoesNotFailEveryLaterWrite()
    {
        var database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("idem-storage") };
        var connectionString = database.ConnectionStringFor(StoreNames.Idempotency);
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        await using var storage = new IdempotencyStorage(connectionString, new OrleansGrainStorageSerializer(serializer), new NoOldRows());
        var key = GrainId.Create("idempotencykey", "public:late-schema");

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => storage.WriteStateAsync("idempotency", key, new GrainState<IdempotencyState>(new IdempotencyState())));
        await SchemaInstaller.ApplyAsync(StoreCatalog.All.Single(s => s.Name == StoreNames.Idempotency), connectionString, CancellationToken.None);
        var state = new GrainState<IdempotencyState>(new IdempotencyState());
        await storage.WriteStateAsync("idempotency", key, state);

        Assert.Equal("1", state.ETag);
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>The old ADO.NET storage of a database whose old table is empty: never asked.</summary>
    private sealed class NoOldRows : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new InvalidOperationException("the old table is empty");

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new InvalidOperationException("never written");

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new InvalidOperationException("never cleared");
    }
}
