using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>Where projections keep their generations, checkpoints and parked events.</summary>
public interface IProjectionStore
{
    Task<(int Live, int? Rebuilding)> LoadStatusAsync(string projection);

    Task SaveStatusAsync(string projection, int live, int? rebuilding);

    Task<Dictionary<string, StoreCursor>> LoadCheckpointsAsync(string projection, int generation);

    /// <summary>Moves the generation's cursors in the given stores, in one statement.</summary>
    Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors);

    Task ParkAsync(string projection, int generation, ProjectedEvent e, string error, int attempts);

    Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(string projection, int generation, int limit);

    Task<long> CountParkedAsync(string projection, int generation);

    Task UnparkAsync(string projection, int generation, string store, long position);

    /// <summary>Forgets a retired generation: its checkpoints, its parked events, and its views' rows.</summary>
    Task DropGenerationAsync(string projection, int generation);
}

public sealed class PostgresProjectionStore(DatabaseOptions database) : IProjectionStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(database.ConnectionStringFor(StoreNames.Projections));

    public async Task<(int Live, int? Rebuilding)> LoadStatusAsync(string projection)
    {
        await using var command = _source.CreateCommand("SELECT live_generation, rebuilding_generation FROM projection_status WHERE projection = $1");
        command.Parameters.AddWithValue(projection);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetInt32(1)) : (1, null);
    }

    public async Task SaveStatusAsync(string projection, int live, int? rebuilding)
    {
        await using var command = _source.CreateCommand(
            """
            INSERT INTO projection_status (projection, live_generation, rebuilding_generation, updated_at) VALUES ($1, $2, $3, now())
            ON CONFLICT (projection) DO UPDATE SET live_generation = EXCLUDED.live_generation,
                rebuilding_generation = EXCLUDED.rebuilding_generation, updated_at = now()
            """);
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(live);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Integer, (object?)rebuilding ?? DBNull.Value);
        await command.ExecuteNonQueryAsync();
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

    public async Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors)
    {
        await using var command = _source.CreateCommand(
            """
            INSERT INTO projection_checkpoints (projection, generation, store, tx_id, position, updated_at)
            SELECT $1, $2, c.store, c.tx::xid8, c.position, now() FROM unnest($3::text[], $4::text[], $5::bigint[]) AS c(store, tx, position)
            ON CONFLICT (projection, generation, store) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()
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

    public async Task DropGenerationAsync(string projection, int generation)
    {
        await using var batch = _source.CreateBatch();
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

        batch.BatchCommands.Add(ViewStateStorage.DeleteByPrefix(ViewKeys.Of(projection, generation, "")));
        await batch.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}

/// <summary>The same in memory, for Localhost mode.</summary>
public sealed class InMemoryProjectionStore : IProjectionStore
{
    private readonly ConcurrentDictionary<string, (int Live, int? Rebuilding)> _status = new();
    private readonly ConcurrentDictionary<(string, int, string), StoreCursor> _checkpoints = new();
    private readonly ConcurrentDictionary<(string, int, string, long), ParkedEvent> _parked = new();

    public Task<(int Live, int? Rebuilding)> LoadStatusAsync(string projection) => Task.FromResult(_status.GetValueOrDefault(projection, (1, null)));

    public Task SaveStatusAsync(string projection, int live, int? rebuilding)
    {
        _status[projection] = (live, rebuilding);
        return Task.CompletedTask;
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
}
