using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Sagas;

/// <summary>Another writer changed the saga since it was read.</summary>
public sealed class SagaConflictException(string sagaId) : Exception($"Saga {sagaId} was changed by someone else.");

/// <summary>Where sagas live: one record each, written with a version check; listable by status.</summary>
public interface ISagaStore
{
    Task<(SagaState State, int Version)?> LoadAsync(string sagaId);

    /// <summary>Writes a new saga (version 1); false if one with this id exists.</summary>
    Task<bool> InsertAsync(SagaState state);

    /// <summary>Writes the next version; <see cref="SagaConflictException"/> if the stored one is not <paramref name="expectedVersion"/>.</summary>
    Task<int> UpdateAsync(SagaState state, int expectedVersion);

    Task<IReadOnlyList<SagaSummary>> ListAsync(SagaStatus? status, int limit);

    /// <summary>Sagas per status; with <paramref name="only"/>, of those statuses only (an index range each, rather than the whole table).</summary>
    Task<IReadOnlyDictionary<SagaStatus, long>> CountsAsync(IReadOnlyCollection<SagaStatus>? only = null);

    /// <summary>Running or compensating sagas whose last write is older than <paramref name="before"/>.</summary>
    Task<IReadOnlyList<string>> ListStalledAsync(DateTimeOffset before, int limit);
}

/// <summary>The sagas table: the state as JSON, with status and timestamps as columns for listing.</summary>
public sealed class PostgresSagaStore(DatabaseOptions database) : ISagaStore, IAsyncDisposable
{
    /// <summary>
    /// jsonb stores object keys in its own order, so the command type discriminator is not necessarily
    /// first when a saga is read back; out-of-order metadata must be allowed.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        AllowOutOfOrderMetadataProperties = true,
    };

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(database.ConnectionStringFor(StoreNames.Sagas));

    public async Task<(SagaState State, int Version)?> LoadAsync(string sagaId)
    {
        await using var command = _source.CreateCommand("SELECT state::text, version FROM sagas WHERE saga_id = $1");
        command.Parameters.AddWithValue(sagaId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (JsonSerializer.Deserialize<SagaState>(reader.GetString(0), Json)!, reader.GetInt32(1)) : null;
    }

    public async Task<bool> InsertAsync(SagaState state)
    {
        await using var command = _source.CreateCommand(
            """
            INSERT INTO sagas (saga_id, kind, status, version, state, created_at, updated_at)
            VALUES ($1, $2, $3, 1, $4::jsonb, $5, $6) ON CONFLICT (saga_id) DO NOTHING
            """);
        command.Parameters.AddWithValue(state.SagaId);
        command.Parameters.AddWithValue(state.Kind);
        command.Parameters.AddWithValue(state.Status.ToString());
        command.Parameters.AddWithValue(JsonSerializer.Serialize(state, Json));
        command.Parameters.AddWithValue(state.CreatedAt);
        command.Parameters.AddWithValue(state.UpdatedAt);
        return await command.ExecuteNonQueryAsync() == 1;
    }

    public async Task<int> UpdateAsync(SagaState state, int expectedVersion)
    {
        await using var command = _source.CreateCommand(
            "UPDATE sagas SET status = $2, version = version + 1, state = $3::jsonb, updated_at = $4 WHERE saga_id = $1 AND version = $5");
        command.Parameters.AddWithValue(state.SagaId);
        command.Parameters.AddWithValue(state.Status.ToString());
        command.Parameters.AddWithValue(JsonSerializer.Serialize(state, Json));
        command.Parameters.AddWithValue(state.UpdatedAt);
        command.Parameters.AddWithValue(expectedVersion);
        return await command.ExecuteNonQueryAsync() == 1 ? expectedVersion + 1 : throw new SagaConflictException(state.SagaId);
    }

    public async Task<IReadOnlyList<SagaSummary>> ListAsync(SagaStatus? status, int limit)
    {
        await using var command = _source.CreateCommand(
            """
            SELECT saga_id, kind, status, (state->>'cursor')::int, created_at, updated_at FROM sagas
             WHERE $1::text IS NULL OR status = $1 ORDER BY updated_at DESC LIMIT $2
            """);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)status?.ToString() ?? DBNull.Value);
        command.Parameters.AddWithValue(limit);
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<SagaSummary>();
        while (await reader.ReadAsync())
        {
            list.Add(new SagaSummary(reader.GetString(0), reader.GetString(1), Enum.Parse<SagaStatus>(reader.GetString(2)), reader.GetInt32(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return list;
    }

    public async Task<IReadOnlyDictionary<SagaStatus, long>> CountsAsync(IReadOnlyCollection<SagaStatus>? only = null)
    {
        await using var command = _source.CreateCommand(only is null
            ? "SELECT status, count(*) FROM sagas GROUP BY status"
            : "SELECT status, count(*) FROM sagas WHERE status = ANY($1) GROUP BY status");
        if (only is not null)
        {
            command.Parameters.AddWithValue(only.Select(s => s.ToString()).ToArray());
        }

        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<SagaStatus, long>();
        while (await reader.ReadAsync())
        {
            counts[Enum.Parse<SagaStatus>(reader.GetString(0))] = reader.GetInt64(1);
        }

        return counts;
    }

    public async Task<IReadOnlyList<string>> ListStalledAsync(DateTimeOffset before, int limit)
    {
        await using var command = _source.CreateCommand(
            "SELECT saga_id FROM sagas WHERE status IN ('Running', 'Compensating') AND updated_at < $1 ORDER BY updated_at LIMIT $2");
        command.Parameters.AddWithValue(before);
        command.Parameters.AddWithValue(limit);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}

/// <summary>Sagas in memory, for Localhost mode.</summary>
public sealed class InMemorySagaStore : ISagaStore
{
    private readonly ConcurrentDictionary<string, (SagaState State, int Version)> _sagas = new(StringComparer.Ordinal);

    public Task<(SagaState State, int Version)?> LoadAsync(string sagaId) =>
        Task.FromResult<(SagaState, int)?>(_sagas.TryGetValue(sagaId, out var saga) ? saga : null);

    public Task<bool> InsertAsync(SagaState state) => Task.FromResult(_sagas.TryAdd(state.SagaId, (state, 1)));

    public Task<int> UpdateAsync(SagaState state, int expectedVersion) =>
        _sagas.TryGetValue(state.SagaId, out var current) && current.Version == expectedVersion
        && _sagas.TryUpdate(state.SagaId, (state, expectedVersion + 1), current)
            ? Task.FromResult(expectedVersion + 1)
            : throw new SagaConflictException(state.SagaId);

    public Task<IReadOnlyList<SagaSummary>> ListAsync(SagaStatus? status, int limit) => Task.FromResult<IReadOnlyList<SagaSummary>>(
        _sagas.Values.Select(s => s.State).Where(s => status is null || s.Status == status).OrderByDescending(s => s.UpdatedAt).Take(limit)
            .Select(s => s.ToSummary()).ToList());

    public Task<IReadOnlyDictionary<SagaStatus, long>> CountsAsync(IReadOnlyCollection<SagaStatus>? only = null) => Task.FromResult<IReadOnlyDictionary<SagaStatus, long>>(
        _sagas.Values.Where(s => only is null || only.Contains(s.State.Status)).GroupBy(s => s.State.Status).ToDictionary(g => g.Key, g => (long)g.Count()));

    public Task<IReadOnlyList<string>> ListStalledAsync(DateTimeOffset before, int limit) => Task.FromResult<IReadOnlyList<string>>(
        _sagas.Values.Select(s => s.State).Where(s => !s.Status.IsTerminal() && s.UpdatedAt < before).OrderBy(s => s.UpdatedAt).Take(limit).Select(s => s.SagaId).ToList());
}

/// <summary>Reads the saga table for operators; any silo can answer, so it is a stateless worker.</summary>
[Orleans.Concurrency.StatelessWorker]
public sealed class SagaDirectoryGrain(ISagaStore store) : Grain, ISagaDirectoryGrain
{
    public async Task<ImmutableArray<SagaSummary>> List(SagaStatus? status, int limit) =>
        [.. await store.ListAsync(status, Math.Clamp(limit, 1, 1000))];

    public async Task<ImmutableDictionary<SagaStatus, long>> Counts() => (await store.CountsAsync()).ToImmutableDictionary();
}
