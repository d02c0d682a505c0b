using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Sagas.Workflows;

/// <summary>One registered version of a workflow, as stored: its document and when it was registered (and deleted).</summary>
public sealed record StoredWorkflow(string Name, int Version, JsonObject Document, DateTimeOffset CreatedAt, DateTimeOffset? DeletedAt);

/// <summary>How a registration went: the version it is (new, or the latest when the same document was sent again).</summary>
public sealed record WorkflowRegistration(int Version, bool Created);

/// <summary>Where workflow definitions live: every version, immutable once written.</summary>
public interface IWorkflowStore
{
    /// <summary>
    /// Registers <paramref name="document"/> as the next version of <paramref name="name"/>; if it equals the
    /// latest live version, answers that one instead. <paramref name="expectedVersion"/> (the document's
    /// <c>version</c>) must then be the next version, else <see cref="WorkflowVersionConflictException"/>.
    /// </summary>
    Task<WorkflowRegistration> RegisterAsync(string name, JsonObject document, int? expectedVersion, DateTimeOffset now);

    /// <summary>The version asked for, or the latest live one; null if there is none.</summary>
    Task<StoredWorkflow?> GetAsync(string name, int? version);

    /// <summary>Every version of every workflow (or of one), newest first per workflow.</summary>
    Task<IReadOnlyList<StoredWorkflow>> ListAsync(string? name);

    /// <summary>Marks a version deleted, unless running or parked sagas use it; answers how many do (0: deleted).</summary>
    Task<long> DeleteAsync(string name, int version, DateTimeOffset now);
}

/// <summary>A registration named a version that is not the next one: someone registered in between.</summary>
public sealed class WorkflowVersionConflictException(int latest) : Exception($"The latest version is {latest}.")
{
    public int Latest { get; } = latest;
}

/// <summary>The workflows table, beside the sagas that use it.</summary>
public sealed class PostgresWorkflowStore(DatabaseOptions database) : IWorkflowStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(database.ConnectionStringFor(StoreNames.Sagas));

    public async Task<WorkflowRegistration> RegisterAsync(string name, JsonObject document, int? expectedVersion, DateTimeOffset now)
    {
        await using var connection = await _source.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // One registration per workflow at a time: the next version is read and written under this lock.
        await using (var lockName = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('workflow:' || $1))", connection, transaction))
        {
            lockName.Parameters.AddWithValue(name);
            await lockName.ExecuteNonQueryAsync();
        }

        int latest = 0;
        bool same = false;
        await using (var read = new NpgsqlCommand(
            """
            SELECT coalesce(max(version), 0),
                   coalesce(bool_or(version = (SELECT max(version) FROM workflows WHERE name = $1 AND deleted_at IS NULL) AND document = $2::jsonb), false)
              FROM workflows WHERE name = $1
            """, connection, transaction))
        {
            read.Parameters.AddWithValue(name);
            read.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Jsonb, document.ToJsonString());
            await using var reader = await read.ExecuteReaderAsync();
            await reader.ReadAsync();
            (latest, same) = (reader.GetInt32(0), reader.GetBoolean(1));
        }

        if (same && (expectedVersion is null || expectedVersion == latest))
        {
            return new WorkflowRegistration(latest, false);
        }

        if (expectedVersion is { } expected && expected != latest + 1)
        {
            throw new WorkflowVersionConflictException(latest);
        }

        await using (var insert = new NpgsqlCommand("INSERT INTO workflows (name, version, document, created_at) VALUES ($1, $2, $3::jsonb, $4)", connection, transaction))
        {
            insert.Parameters.AddWithValue(name);
            insert.Parameters.AddWithValue(latest + 1);
            insert.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Jsonb, document.ToJsonString());
            insert.Parameters.AddWithValue(now);
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return new WorkflowRegistration(latest + 1, true);
    }

    public async Task<StoredWorkflow?> GetAsync(string name, int? version)
    {
        await using var command = _source.CreateCommand(version is null
            ? "SELECT name, version, document::text, created_at, deleted_at FROM workflows WHERE name = $1 AND deleted_at IS NULL ORDER BY version DESC LIMIT 1"
            : "SELECT name, version, document::text, created_at, deleted_at FROM workflows WHERE name = $1 AND version = $2");
        command.Parameters.AddWithValue(name);
        if (version is not null)
        {
            command.Parameters.AddWithValue(version.Value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<StoredWorkflow>> ListAsync(string? name)
    {
        await using var command = _source.CreateCommand(
            "SELECT name, version, document::text, created_at, deleted_at FROM workflows WHERE $1::text IS NULL OR name = $1 ORDER BY name, version DESC LIMIT 1000");
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Text, (object?)name ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<StoredWorkflow>();
        while (await reader.ReadAsync())
        {
            list.Add(Read(reader));
        }

        return list;
    }

    public async Task<long> DeleteAsync(string name, int version, DateTimeOffset now)
    {
        // In one statement, so a saga cannot start on the version between the count and the mark (a start reads the version first and then inserts, so one already reading it may still start: it keeps its steps, which it holds itself).
        await using var command = _source.CreateCommand(
            """
            WITH using_it AS (
                SELECT count(*) AS n FROM sagas
                 WHERE kind = $1 AND status IN ('Running', 'Compensating', 'Failed') AND (state->>'workflowVersion')::int = $2)
            UPDATE workflows SET deleted_at = $3
             WHERE name = $1 AND version = $2 AND deleted_at IS NULL AND (SELECT n FROM using_it) = 0
            RETURNING 0
            """);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(version);
        command.Parameters.AddWithValue(now);
        if (await command.ExecuteScalarAsync() is not null)
        {
            return 0;
        }

        await using var count = _source.CreateCommand(
            "SELECT count(*) FROM sagas WHERE kind = $1 AND status IN ('Running', 'Compensating', 'Failed') AND (state->>'workflowVersion')::int = $2");
        count.Parameters.AddWithValue(name);
        count.Parameters.AddWithValue(version);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static StoredWorkflow Read(NpgsqlDataReader reader) => new(reader.GetString(0), reader.GetInt32(1), (JsonObject)JsonNode.Parse(reader.GetString(2))!,
        reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}

/// <summary>Workflows in memory, for Localhost mode; a deletion does not look at sagas there.</summary>
public sealed class InMemoryWorkflowStore : IWorkflowStore
{
    private readonly ConcurrentDictionary<string, List<StoredWorkflow>> _workflows = new(StringComparer.Ordinal);

    public Task<WorkflowRegistration> RegisterAsync(string name, JsonObject document, int? expectedVersion, DateTimeOffset now)
    {
        var versions = _workflows.GetOrAdd(name, _ => []);
        lock (versions)
        {
            var live = versions.LastOrDefault(v => v.DeletedAt is null);
            if (live is not null && JsonNode.DeepEquals(live.Document, document) && live.Version == versions.Count && (expectedVersion is null || expectedVersion == live.Version))
            {
                return Task.FromResult(new WorkflowRegistration(live.Version, false));
            }

            if (expectedVersion is { } expected && expected != versions.Count + 1)
            {
                throw new WorkflowVersionConflictException(versions.Count);
            }

            versions.Add(new StoredWorkflow(name, versions.Count + 1, (JsonObject)document.DeepClone(), now, null));
            return Task.FromResult(new WorkflowRegistration(versions.Count, true));
        }
    }

    public Task<StoredWorkflow?> GetAsync(string name, int? version)
    {
        if (!_workflows.TryGetValue(name, out var versions))
        {
            return Task.FromResult<StoredWorkflow?>(null);
        }

        lock (versions)
        {
            return Task.FromResult(version is null ? versions.LastOrDefault(v => v.DeletedAt is null) : versions.FirstOrDefault(v => v.Version == version));
        }
    }

    public Task<IReadOnlyList<StoredWorkflow>> ListAsync(string? name) => Task.FromResult<IReadOnlyList<StoredWorkflow>>(
        [.. _workflows.Where(w => name is null || w.Key == name).OrderBy(w => w.Key, StringComparer.Ordinal)
            .SelectMany(w => { lock (w.Value) { return w.Value.AsEnumerable().Reverse().ToList(); } })]);

    public Task<long> DeleteAsync(string name, int version, DateTimeOffset now)
    {
        if (_workflows.TryGetValue(name, out var versions))
        {
            lock (versions)
            {
                var index = versions.FindIndex(v => v.Version == version && v.DeletedAt is null);
                if (index >= 0)
                {
                    versions[index] = versions[index] with { DeletedAt = now };
                }
            }
        }

        return Task.FromResult(0L);
    }
}
