using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Reliability.Projections;

namespace Reliability.Services.EventStore;

/// <summary>
/// Events in the service's own <c>events</c> table. An append is one INSERT of all the command's events;
/// the unique (stream_id, version) constraint is the optimistic-concurrency check.
/// </summary>
public sealed class PostgresEventStore(string name, NpgsqlDataSource source) : IEventStore
{
    private const string UniqueViolation = "23505";
    private const string CommandIndex = "events_stream_command";

    public string Name => name;

    public NpgsqlDataSource Source => source;

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, int afterVersion = 0, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            "SELECT position, stream_id, version, event_type, payload::text, command_id, recorded_at FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version");
        command.Parameters.AddWithValue(streamId);
        command.Parameters.AddWithValue(afterVersion);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(Read(reader));
        }

        return events;
    }

    public async Task<RecordedEvent?> FindCommandAsync(string streamId, string commandId, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            "SELECT position, stream_id, version, event_type, payload::text, command_id, recorded_at FROM events WHERE stream_id = $1 AND command_id = $2");
        command.Parameters.AddWithValue(streamId);
        command.Parameters.AddWithValue(commandId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<Snapshot?> ReadSnapshotAsync(string streamId, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand("SELECT version, state::text, commands::text FROM snapshots WHERE stream_id = $1");
        command.Parameters.AddWithValue(streamId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Snapshot(reader.GetInt32(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    public async Task WriteSnapshotAsync(string streamId, Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            """
            INSERT INTO snapshots (stream_id, version, state, commands, taken_at) VALUES ($1, $2, $3::jsonb, $4::jsonb, now())
            ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state, commands = EXCLUDED.commands, taken_at = now()
             WHERE snapshots.version < EXCLUDED.version
            """);
        command.Parameters.AddWithValue(streamId);
        command.Parameters.AddWithValue(snapshot.Version);
        command.Parameters.AddWithValue(snapshot.State);
        command.Parameters.AddWithValue(snapshot.Commands);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> StreamVersionAsync(string streamId, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1");
        command.Parameters.AddWithValue(streamId);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default, bool idOnEveryEvent = false)
    {
        await using var command = source.CreateCommand(
            """
            INSERT INTO events (stream_id, version, event_type, payload, command_id, trace_parent)
            SELECT $1, $2 + n, t, p::jsonb, c, $6 FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(t, p, c, n)
            RETURNING position
            """);
        command.Parameters.AddWithValue(streamId);
        command.Parameters.AddWithValue(expectedVersion);
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Type).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select((e, i) => i == 0 || idOnEveryEvent ? e.CommandId : null).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)Activity.Current?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Varchar });
        var positions = new List<long>(events.Count);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                positions.Add(reader.GetInt64(0));
            }
        }
        catch (PostgresException ex) when (ex.SqlState == UniqueViolation && ex.ConstraintName == CommandIndex)
        {
            throw new DuplicateCommandException(streamId, events[0].CommandId!);
        }
        catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
        {
            throw new ConcurrencyConflictException(streamId, expectedVersion);
        }

        positions.Sort();
        return new AppendResult(expectedVersion + events.Count, positions);
    }

    public async Task<IReadOnlyList<ProjectedEvent>> ReadAfterAsync(StoreCursor after, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            """
            SELECT position, tx_id::text::bigint, stream_id, version, event_type, payload::text, recorded_at, trace_parent FROM events
             WHERE (tx_id, position) > ($1::text::xid8, $2)
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY tx_id, position
             LIMIT $3
            """);
        command.Parameters.AddWithValue(after.TxId.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue(after.Position);
        command.Parameters.AddWithValue(limit);
        return await ReadProjectedAsync(command, cancellationToken);
    }

    public async Task<ProjectedEvent?> ReadAtAsync(long position, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            "SELECT position, tx_id::text::bigint, stream_id, version, event_type, payload::text, recorded_at, trace_parent FROM events WHERE position = $1");
        command.Parameters.AddWithValue(position);
        return (await ReadProjectedAsync(command, cancellationToken)).FirstOrDefault();
    }

    public async Task<ulong?> TransactionOfAsync(long position, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand("SELECT tx_id::text::bigint FROM events WHERE position = $1");
        command.Parameters.AddWithValue(position);
        return await command.ExecuteScalarAsync(cancellationToken) is long tx ? (ulong)tx : null;
    }

    public async Task<(long Count, DateTimeOffset? Oldest)> BacklogAsync(StoreCursor after, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            "SELECT count(*), min(recorded_at) FROM events WHERE (tx_id, position) > ($1::text::xid8, $2)");
        command.Parameters.AddWithValue(after.TxId.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue(after.Position);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }

    private async Task<IReadOnlyList<ProjectedEvent>> ReadProjectedAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<ProjectedEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new ProjectedEvent(name, reader.GetInt64(0), (ulong)reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3),
                reader.GetString(4), reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return events;
    }

    public static RecordedEvent Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6));
}
