using Npgsql;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>
/// What a stale duplicate of a projection runner (two activations during a partition) can do to the
/// projection store: nothing. Its checkpoints never move a cursor back nor bring a dropped generation back,
/// and it cannot drop the generation another runner is rebuilding into.
/// </summary>
public sealed class ProjectionStoreFencingTests : IAsyncLifetime
{
    private const string Projection = "orders";
    private PostgresProjectionStore _store = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        var database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("projection-fencing") };
        await SchemaInstaller.ApplyAsync(StoreCatalog.All.Single(s => s.Name == StoreNames.Projections), database.ConnectionStringFor(StoreNames.Projections), CancellationToken.None);
        _connectionString = database.ConnectionStringFor(StoreNames.Projections);
        _store = new PostgresProjectionStore(database);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
    }

    private static Dictionary<string, StoreCursor> At(ulong tx, long position) => new() { ["orders"] = new StoreCursor(tx, position) };

    [Fact]
    public async Task AStaleRunnersCheckpoint_NeverMovesACursorBack()
    {
        await _store.SaveCheckpointsAsync(Projection, 1, At(900, 50));
        await _store.SaveCheckpointsAsync(Projection, 1, At(900, 20));
        await _store.SaveCheckpointsAsync(Projection, 1, At(800, 90));

        var cursor = (await _store.LoadCheckpointsAsync(Projection, 1))["orders"];
        Assert.Equal((900UL, 50L), (cursor.TxId, cursor.Position));

        await _store.SaveCheckpointsAsync(Projection, 1, At(901, 1));
        cursor = (await _store.LoadCheckpointsAsync(Projection, 1))["orders"];
        Assert.Equal((901UL, 1L), (cursor.TxId, cursor.Position));
    }

    [Fact]
    public async Task AStaleRunnersCheckpoint_DoesNotBringADroppedGenerationBack()
    {
        await _store.SaveCheckpointsAsync(Projection, 1, At(900, 50));
        var status = await _store.LoadStatusAsync(Projection);
        status = await _store.SaveStatusAsync(Projection, 1, 2, status.Version);
        await _store.SaveCheckpointsAsync(Projection, 2, At(950, 70));
        await _store.SaveStatusAsync(Projection, 2, null, status.Version);
        await _store.DropGenerationAsync(Projection, 1);

        await _store.SaveCheckpointsAsync(Projection, 1, At(960, 80));

        Assert.Empty(await _store.LoadCheckpointsAsync(Projection, 1));
        Assert.Equal(70, (await _store.LoadCheckpointsAsync(Projection, 2))["orders"].Position);
    }

    /// <summary>A status saved before statuses had versions reads as version 0, and the first save over it lands.</summary>
    [Fact]
    public async Task AStatusFromBeforeVersions_IsSavedOver_FromVersionZero()
    {
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO projection_status (projection, live_generation, rebuilding_generation) VALUES ($1, 8, NULL)", connection);
            insert.Parameters.AddWithValue(Projection);
            await insert.ExecuteNonQueryAsync();
        }

        var legacy = await _store.LoadStatusAsync(Projection);
        var saved = await _store.SaveStatusAsync(Projection, 8, 9, legacy.Version);

        Assert.Equal((8, (int?)null, 0L), legacy);
        Assert.Equal((8, (int?)9, 1L), saved);
        Assert.Equal(saved, await _store.LoadStatusAsync(Projection));
        await Assert.ThrowsAsync<ProjectionFencedException>(() => _store.SaveStatusAsync(Projection, 9, null, legacy.Version));
    }

    [Fact]
    public async Task AStaleRunner_CannotDropTheGenerationBeingRebuilt_NorSaveTheStatusItLoadedBefore()
    {
        var stale = await _store.LoadStatusAsync(Projection);
        var current = await _store.SaveStatusAsync(Projection, 1, 2, stale.Version);
        await _store.SaveCheckpointsAsync(Projection, 2, At(950, 70));

        await _store.DropGenerationAsync(Projection, 2);
        await Assert.ThrowsAsync<ProjectionFencedException>(() => _store.SaveStatusAsync(Projection, 1, 3, stale.Version));

        Assert.Equal(70, (await _store.LoadCheckpointsAsync(Projection, 2))["orders"].Position);
        Assert.Equal((1, (int?)2, current.Version), await _store.LoadStatusAsync(Projection));
    }
}
