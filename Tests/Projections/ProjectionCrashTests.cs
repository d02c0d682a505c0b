using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>
/// What a PostgreSQL crash (not a clean stop) does to a projection: view writes are committed without
/// waiting for the disk, so the crash can take back a view's last write together with the checkpoint write
/// that was to follow it. The runner must go back to its durable checkpoint and apply those events again.
/// </summary>
public sealed class ProjectionCrashTests
{
    [Fact]
    public async Task CheckpointWriteFails_AndAViewsLastWriteIsLost_TheEventsAreAppliedAgain()
    {
        var crashing = new CrashingCheckpointStore();
        var (cluster, database) = await TestClusters.StartAsync("projection-crash", silos: 1, sagas: Sagas.SagaClusterFixture.FastOptions(),
            projections: ProjectionClusterFixture.FastOptions(),
            configureSilo: silo => silo.Services.AddSingleton<IProjectionStore>(sp =>
                crashing.Wrap(new PostgresProjectionStore(sp.GetRequiredService<DatabaseOptions>()))));
        await using var _ = cluster;
        var shop = new Shop(cluster.Client);
        var (alice, bob) = (await shop.AccountAsync(100m), await shop.AccountAsync(0m));
        await shop.TransferAsync(alice, bob, 10m);
        await shop.CaughtUpAsync(ProjectionNames.Statements);

        // The crash: the next checkpoint write of the statements fails, and alice's statement row goes back
        // to what it held before the write that preceded it.
        var saved = await ViewRowsAsync(database, alice);
        crashing.OnNextStatementsCheckpoint = () => RestoreViewRowsAsync(database, saved);
        await shop.TransferAsync(alice, bob, 5m);
        await crashing.Crashed.WaitAsync(TimeSpan.FromSeconds(20));
        await shop.CaughtUpAsync(ProjectionNames.Statements);

        // Forget what the silo holds in memory: the views are what their rows say.
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var statement = (await cluster.Client.ReadStatementAsync(alice, ImmutableArray<ConsistencyToken>.Empty, TimeSpan.Zero)).View!;

        Assert.Equal(85m, statement.Balance);
        Assert.Equal(3, statement.MovementCount);
    }

    private static async Task<List<(string Key, byte[] Payload, int Version)>> ViewRowsAsync(DatabaseOptions database, string account)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(StoreNames.Projections));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT grain_key, payload, version FROM view_states WHERE grain_key LIKE $1", connection);
        command.Parameters.AddWithValue($"%:{ViewRef.Account(account)}");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, byte[], int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetFieldValue<byte[]>(1), reader.GetInt32(2)));
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    private static async Task RestoreViewRowsAsync(DatabaseOptions database, List<(string Key, byte[] Payload, int Version)> rows)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(StoreNames.Projections));
        await connection.OpenAsync();
        foreach (var (key, payload, version) in rows)
        {
            await using var command = new NpgsqlCommand("UPDATE view_states SET payload = $2, version = $3 WHERE grain_key = $1", connection);
            command.Parameters.AddWithValue(key);
            command.Parameters.AddWithValue(payload);
            command.Parameters.AddWithValue(version);
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The real store, whose next checkpoint write of the statements can be made to crash.</summary>
    private sealed class CrashingCheckpointStore
    {
        private readonly TaskCompletionSource _crashed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<Task>? OnNextStatementsCheckpoint { get; set; }

        public Task Crashed => _crashed.Task;

        public IProjectionStore Wrap(IProjectionStore inner) => new Store(inner, this);

        private async Task<bool> CrashAsync(string projection)
        {
            if (projection != ProjectionNames.Statements || OnNextStatementsCheckpoint is not { } crash)
            {
                return false;
            }

            OnNextStatementsCheckpoint = null;
            await crash();
            _crashed.TrySetResult();
            return true;
        }

        private sealed class Store(IProjectionStore inner, CrashingCheckpointStore owner) : IProjectionStore
        {
            public async Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors)
            {
                if (await owner.CrashAsync(projection))
                {
                    throw new NpgsqlException("the database crashed before the checkpoint was written");
                }

                await inner.SaveCheckpointsAsync(projection, generation, cursors);
            }

            public Task<(int Live, int? Rebuilding, long Version)> LoadStatusAsync(string projection) => inner.LoadStatusAsync(projection);

            public Task<(int Live, int? Rebuilding, long Version)> SaveStatusAsync(string projection, int live, int? rebuilding, long expectedVersion) =>
                inner.SaveStatusAsync(projection, live, rebuilding, expectedVersion);

            public Task<Dictionary<string, StoreCursor>> LoadCheckpointsAsync(string projection, int generation) => inner.LoadCheckpointsAsync(projection, generation);

            public Task ParkAsync(string projection, int generation, ProjectedEvent e, string error, int attempts) => inner.ParkAsync(projection, generation, e, error, attempts);

            public Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(string projection, int generation, int limit) => inner.ListParkedAsync(projection, generation, limit);

            public Task<long> CountParkedAsync(string projection, int generation) => inner.CountParkedAsync(projection, generation);

            public Task UnparkAsync(string projection, int generation, string store, long position) => inner.UnparkAsync(projection, generation, store, position);

            public Task DropGenerationAsync(string projection, int generation) => inner.DropGenerationAsync(projection, generation);

            public Task<IReadOnlyList<string>> ListViewKeysAsync(string projection, int generation, string prefix, string? after, int limit) =>
                inner.ListViewKeysAsync(projection, generation, prefix, after, limit);
        }
    }
}
