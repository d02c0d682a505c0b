using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>A stale runner (a duplicate activation, or one that missed a cut-over) tried to save a status another runner has moved on.</summary>
public sealed class ProjectionFencedException(string projection, long expected)
    : Exception($"The status of projection '{projection}' is no longer version {expected}: another runner moved it on.");

/// <summary>
/// Where projections keep their generations, checkpoints and parked events. Every write is safe against a
/// stale runner: the status is version-checked, a checkpoint only moves forward and only for a generation
/// that is live or being rebuilt, and the generation being rebuilt or live is never dropped.
/// </summary>
public interface IProjectionStore
{
    /// <summary>The live and rebuilding generations and the status's version (0 before its first save).</summary>
    Task<(int Live, int? Rebuilding, long Version)> LoadStatusAsync(string projection);

    /// <summary>Saves the status if it is still at <paramref name="expectedVersion"/>, else throws <see cref="ProjectionFencedException"/>.</summary>
    Task<(int Live, int? Rebuilding, long Version)> SaveStatusAsync(string projection, int live, int? rebuilding, long expectedVersion);

    Task<Dictionary<string, StoreCursor>> LoadCheckpointsAsync(string projection, int generation);

    /// <summary>Moves the generation's cursors in the given stores, in one statement.</summary>
    Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors);

    Task ParkAsync(string projection, int generation, ProjectedEvent e, string error, int attempts);

    Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(string projection, int generation, int limit);

    Task<long> CountParkedAsync(string projection, int generation);

    Task UnparkAsync(string projection, int generation, string store, long position);

    /// <summary>Forgets a retired generation: its checkpoints, its parked events, and its views' rows.</summary>
    Task DropGenerationAsync(string projection, int generation);

    /// <summary>
    /// The keys (partition ids) of a JavaScript projection generation's views that start with <paramref name="prefix"/>, after <paramref name="after"/>,
    /// in order; throws <see cref="NotSupportedException"/> where views are not kept in a table (Localhost mode).
    /// </summary>
    Task<IReadOnlyList<string>> ListViewKeysAsync(string projection, int generation, string prefix, string? after, int limit);
}

public sealed class PostgresProjectionStore(DatabaseOptions database) : IProjectionStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(database.ConnectionStringFor(StoreNames.Projections));

    public async Task<(int Live, int? Rebuilding, long Version)> LoadStatusAsync(string projection)
    {
        await using var command = _source.CreateCommand("SELECT live_generation, rebuilding_generation, version FROM projection_status WHERE projection = $1");
        command.Parameters.AddWithValue(projection);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.GetInt64(2)) : (1, null, 0);
    }

    public async Task<(int Live, int? Rebuilding, long Version)> SaveStatusAsync(string projection, int live, int? rebuilding, long expectedVersion)
    {
        // Version 0 is "no row yet", or a row saved before statuses had versions (the column's default): the
        // first save over either wins once. After that, only a save over the version read lands.
        await using var command = _source.CreateCommand(expectedVersion == 0
            ? """
              INSERT INTO projection_status (projection, live_generation, rebuilding_generation, version, updated_at) VALUES ($1, $2, $3, 1, now())
              ON CONFLICT (projection) DO UPDATE SET live_generation = EXCLUDED.live_generation,
                  rebuilding_generation = EXCLUDED.rebuilding_generation, version = 1, updated_at = now()
               WHERE projection_status.version = 0
              """
            : """
              UPDATE projection_status SET live_generation = $2, rebuilding_generation = $3, version = version + 1, updated_at = now()
               WHERE projection = $1 AND version = $4
              """);
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(live);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Integer, (object?)rebuilding ?? DBNull.Value);
        command.Parameters.AddWithValue(expectedVersion);
        return await command.ExecuteNonQueryAsync() == 1
            ? (live, rebuilding, expectedVersion + 1)
            : throw new ProjectionFencedException(projection, expectedVersion);
    }

    public async Task<Dictionary<string, StoreCursor>> LoadCheckpointsAsync(string projection, int generation)
    {
        await using var command = _source.CreateCommand(
            "SELECT store, tx_id::text::bigint, position FROM projection_checkpoints WHERE projection = $1 AND generation = $2");
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        await using var reader = await command.ExecuteReaderAsync();
        var cursors = new Dictionary<string, StoreCursor>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            cursors[reader.GetString(0)] = new StoreCursor((ulong)reader.GetInt64(1), reader.GetInt64(2));
        }

        return cursors;
    }

    /// <summary>
    /// Only forward, and only for a generation that is live or being rebuilt (generation 1 before any status
    /// is saved): a stale runner's older cursor or retired generation is ignored, never written.
    /// </summary>
    public async Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors)
    {
        await using var command = _source.CreateCommand(
            """
            INSERT INTO projection_checkpoints (projection, generation, store, tx_id, position, updated_at)
            SELECT $1, $2, c.store, c.tx::xid8, c.position, now() FROM unnest($3::text[], $4::text[], $5::bigint[]) AS c(store, tx, position)
             WHERE EXISTS (SELECT 1 FROM projection_status s WHERE s.projection = $1 AND $2 IN (s.live_generation, s.rebuilding_generation))
                OR ($2 = 1 AND NOT EXISTS (SELECT 1 FROM projection_status s WHERE s.projection = $1))
            ON CONFLICT (projection, generation, store) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()
             WHERE (projection_checkpoints.tx_id, projection_checkpoints.position) < (EXCLUDED.tx_id, EXCLUDED.position)
            """);
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        command.Parameters.AddWithValue(cursors.Keys.ToArray());
        command.Parameters.AddWithValue(cursors.Values.Select(c => c.TxId.ToString(CultureInfo.InvariantCulture)).ToArray());
        command.Parameters.AddWithValue(cursors.Values.Select(c => c.Position).ToArray());
        await command.ExecuteNonQueryAsync();
    }

    public async Task ParkAsync(string projection, int generation, ProjectedEvent e, string error, int attempts)
    {
        await using var command = _source.CreateCommand(
            """
            INSERT INTO projection_parked (projection, generation, store, position, stream_id, version, event_type, error, attempts)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (projection, generation, store, position) DO UPDATE SET error = EXCLUDED.error, attempts = projection_parked.attempts + EXCLUDED.attempts, parked_at = now()
            """);
        foreach (var value in new object[] { projection, generation, e.Store, e.Position, e.StreamId, e.Version, e.Type, error, attempts })
        {
            command.Parameters.AddWithValue(value);
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(string projection, int generation, int limit)
    {
        await using var command = _source.CreateCommand(
            """
            SELECT store, position, stream_id, version, event_type, error, attempts, parked_at FROM projection_parked
             WHERE projection = $1 AND generation = $2 ORDER BY store, position LIMIT $3
            """);
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        command.Parameters.AddWithValue(limit);
        await using var reader = await command.ExecuteReaderAsync();
        var parked = new List<ParkedEvent>();
        while (await reader.ReadAsync())
        {
            parked.Add(new ParkedEvent(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7)));
        }

        return parked;
    }

    public async Task<long> CountParkedAsync(string projection, int generation)
    {
        await using var command = _source.CreateCommand("SELECT count(*) FROM projection_parked WHERE projection = $1 AND generation = $2");
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task UnparkAsync(string projection, int generation, string store, long position)
    {
        await using var command = _source.CreateCommand(
            "DELETE FROM projection_parked WHERE projection = $1 AND generation = $2 AND store = $3 AND position = $4");
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        command.Parameters.AddWithValue(store);
        command.Parameters.AddWithValue(position);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Does nothing for the generation that is live or being rebuilt: only a stale runner would ask that.</summary>
    public async Task DropGenerationAsync(string projection, int generation)
    {
        await using var connection = await _source.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var check = new NpgsqlCommand(
            "SELECT 1 FROM projection_status WHERE projection = $1 AND $2 IN (live_generation, rebuilding_generation) FOR UPDATE", connection, transaction))
        {
            check.Parameters.AddWithValue(projection);
            check.Parameters.AddWithValue(generation);
            if (await check.ExecuteScalarAsync() is not null)
            {
                return;
            }
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var sql in new[]
        {
            "DELETE FROM projection_checkpoints WHERE projection = $1 AND generation = $2",
            "DELETE FROM projection_parked WHERE projection = $1 AND generation = $2",
        })
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.AddWithValue(projection);
            command.Parameters.AddWithValue(generation);
            batch.BatchCommands.Add(command);
        }

        batch.BatchCommands.Add(ViewStateStorage.DeleteByPrefix(ViewKey.Prefix(projection, generation)));
        await batch.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    public async Task<IReadOnlyList<string>> ListViewKeysAsync(string projection, int generation, string prefix, string? after, int limit)
    {
        var keyPrefix = ViewKey.Prefix(projection, generation, ViewRef.Partition("").Kind);
        await using var command = _source.CreateCommand(
            "SELECT grain_key FROM view_states WHERE grain_key > $1 AND left(grain_key, length($2)) = $2 ORDER BY grain_key LIMIT $3");
        command.Parameters.AddWithValue(keyPrefix + (after ?? ""));
        command.Parameters.AddWithValue(keyPrefix + prefix);
        command.Parameters.AddWithValue(limit);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0)[keyPrefix.Length..]);
        }

        return keys;
    }
}

/// <summary>The same in memory, for Localhost mode.</summary>
public sealed class InMemoryProjectionStore : IProjectionStore
{
    private readonly ConcurrentDictionary<string, (int Live, int? Rebuilding, long Version)> _status = new();
    private readonly ConcurrentDictionary<(string, int, string), StoreCursor> _checkpoints = new();
    private readonly ConcurrentDictionary<(string, int, string, long), ParkedEvent> _parked = new();

    public Task<(int Live, int? Rebuilding, long Version)> LoadStatusAsync(string projection) => Task.FromResult(_status.GetValueOrDefault(projection, (1, null, 0)));

    public Task<(int Live, int? Rebuilding, long Version)> SaveStatusAsync(string projection, int live, int? rebuilding, long expectedVersion)
    {
        var saved = (live, rebuilding, expectedVersion + 1);
        var stored = expectedVersion == 0
            ? _status.TryAdd(projection, saved)
            : _status.TryGetValue(projection, out var current) && current.Version == expectedVersion && _status.TryUpdate(projection, saved, current);
        return stored ? Task.FromResult(saved) : Task.FromException<(int, int?, long)>(new ProjectionFencedException(projection, expectedVersion));
    }

    public Task<Dictionary<string, StoreCursor>> LoadCheckpointsAsync(string projection, int generation) =>
        Task.FromResult(_checkpoints.Where(c => c.Key.Item1 == projection && c.Key.Item2 == generation).ToDictionary(c => c.Key.Item3, c => c.Value));

    public Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors)
    {
        foreach (var (store, cursor) in cursors)
        {
            _checkpoints[(projection, generation, store)] = cursor;
        }

        return Task.CompletedTask;
    }

    public Task ParkAsync(string projection, int generation, ProjectedEvent e, string error, int attempts)
    {
        _parked[(projection, generation, e.Store, e.Position)] = new ParkedEvent(e.Store, e.Position, e.StreamId, e.Version, e.Type, error, attempts, DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(string projection, int generation, int limit) => Task.FromResult<IReadOnlyList<ParkedEvent>>(
        _parked.Where(p => p.Key.Item1 == projection && p.Key.Item2 == generation).Select(p => p.Value).OrderBy(p => p.Store).ThenBy(p => p.Position).Take(limit).ToList());

    public Task<long> CountParkedAsync(string projection, int generation) =>
        Task.FromResult((long)_parked.Keys.Count(k => k.Item1 == projection && k.Item2 == generation));

    public Task UnparkAsync(string projection, int generation, string store, long position)
    {
        _parked.TryRemove((projection, generation, store, position), out _);
        return Task.CompletedTask;
    }

    public Task DropGenerationAsync(string projection, int generation)
    {
        foreach (var key in _checkpoints.Keys.Where(k => k.Item1 == projection && k.Item2 == generation))
        {
            _checkpoints.TryRemove(key, out _);
        }

        foreach (var key in _parked.Keys.Where(k => k.Item1 == projection && k.Item2 == generation))
        {
            _parked.TryRemove(key, out _);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListViewKeysAsync(string projection, int generation, string prefix, string? after, int limit) =>
        throw new NotSupportedException("Listing views needs PostgreSQL: in Localhost mode views live in grain memory only.");
}
