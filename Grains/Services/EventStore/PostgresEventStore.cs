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
public sealed class PostgresEventStore(string name, NpgsqlDataSource source) : IEventStore, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private GroupCommit? _group;

    private const string UniqueViolation = "23505";
    private const string CommandIndex = "events_stream_command";

    public string Name => name;

    public NpgsqlDataSource Source => source;

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, int afterVersion = 0, CancellationToken cancellationToken = default, int limit = int.MaxValue)
    {
        await using var command = source.CreateCommand(
            "SELECT position, stream_id, version, event_type, payload::text, command_id, recorded_at FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT $3");
        command.Parameters.AddWithValue(streamId);
        command.Parameters.AddWithValue(afterVersion);
        command.Parameters.AddWithValue(limit);
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

    public Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default, bool idOnEveryEvent = false)
    {
        if (idOnEveryEvent)
        {
            // Appends over HTTP: many small ones at once, so they share commits (see GroupCommit).
            return Group().AppendAsync(streamId, expectedVersion, events, cancellationToken);
        }

        return AppendAloneAsync(streamId, expectedVersion, events, cancellationToken);
    }

    private async Task<AppendResult> AppendAloneAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        await using var batch = source.CreateBatch();
        batch.BatchCommands.Add(InsertCommand(streamId, expectedVersion, events, idOnEveryEvent: false));
        return await RunInsertAsync(batch, streamId, expectedVersion, events, cancellationToken);
    }

    private GroupCommit Group()
    {
        if (_group is null)
        {
            lock (_gate)
            {
                _group ??= new GroupCommit(source, RunGroupAsync);
            }
        }

        return _group;
    }

    /// <summary>
    /// A group's appends in one round trip while nothing conflicts: a batch of SAVEPOINT + INSERT per append.
    /// When one INSERT fails, PostgreSQL refuses the rest of the batch: that append is undone to its savepoint
    /// (the newest of the name) and gets its exception, and the appends after it go again in a new batch.
    /// </summary>
    private static async Task<(AppendResult? Result, Exception? Error)[]> RunGroupAsync(NpgsqlConnection connection, IReadOnlyList<GroupCommit.Append> group)
    {
        var results = new (AppendResult? Result, Exception? Error)[group.Count];
        var next = 0;
        while (next < group.Count)
        {
            await using var batch = new NpgsqlBatch(connection);
            for (var i = next; i < group.Count; i++)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SAVEPOINT append"));
                batch.BatchCommands.Add(InsertCommand(group[i].StreamId, group[i].ExpectedVersion, group[i].Events, idOnEveryEvent: true));
            }

            var index = next - 1; // the append whose INSERT is being read
            var reading = false;
            var positions = new List<long>();
            try
            {
                await using var reader = await batch.ExecuteReaderAsync();
                do
                {
                    if (reader.FieldCount == 0)
                    {
                        continue; // a savepoint
                    }

                    if (index >= next)
                    {
                        results[index] = Outcome(group[index], positions);
                    }

                    (index, positions, reading) = (index + 1, [], true);
                    while (await reader.ReadAsync())
                    {
                        positions.Add(reader.GetInt64(0));
                    }

                    reading = false;
                }
                while (await reader.NextResultAsync());

                results[index] = Outcome(group[index], positions);
                next = group.Count;
            }
            catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
            {
                // Results come in order: the failure is the INSERT being read, or else the next one.
                if (!reading)
                {
                    if (index >= next)
                    {
                        results[index] = Outcome(group[index], positions);
                    }

                    index++;
                }

                var failed = group[index];
                results[index] = (null, ex.ConstraintName == CommandIndex
                    ? new DuplicateCommandException(failed.StreamId, failed.Events[0].CommandId!)
                    : new ConcurrencyConflictException(failed.StreamId, failed.ExpectedVersion));
                await using var rollback = new NpgsqlCommand("ROLLBACK TO SAVEPOINT append", connection);
                await rollback.ExecuteNonQueryAsync();
                next = index + 1;
            }
        }

        return results;
    }

    private static (AppendResult? Result, Exception? Error) Outcome(GroupCommit.Append append, List<long> positions)
    {
        if (positions.Count == 0)
        {
            // Inserted nothing: the stream is not at the version the append expected (see InsertCommand).
            return (null, new ConcurrencyConflictException(append.StreamId, append.ExpectedVersion));
        }

        positions.Sort();
        return (new AppendResult(append.ExpectedVersion + append.Events.Count, positions), null);
    }

    /// <summary>
    /// The INSERT of an append. The unique (stream, version) index refuses an append behind the stream; an
    /// append from a client (an id on every event) may also name a version <em>ahead</em> of it, which the
    /// index would let through with a gap, so that one inserts only at the stream's version (and inserts
    /// nothing otherwise: a conflict too).
    /// </summary>
    private static NpgsqlBatchCommand InsertCommand(string streamId, int expectedVersion, IReadOnlyList<EventData> events, bool idOnEveryEvent)
    {
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO events (stream_id, version, event_type, payload, command_id, trace_parent)
            SELECT $1, $2 + n, t, p::jsonb, c, $6 FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(t, p, c, n)
            """ + (idOnEveryEvent ? "\n WHERE (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1) = $2" : "") + """

            RETURNING position
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = streamId });
        command.Parameters.Add(new NpgsqlParameter { Value = expectedVersion });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Type).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select((e, i) => i == 0 || idOnEveryEvent ? e.CommandId : null).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)Activity.Current?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Varchar });
        return command;
    }

    /// <summary>Runs a batch of the INSERT alone, and reads its positions; a unique violation becomes the append's own exception.</summary>
    private static async Task<AppendResult> RunInsertAsync(NpgsqlBatch batch, string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        var positions = new List<long>(events.Count);
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
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

    public async ValueTask DisposeAsync()
    {
        if (_group is not null)
        {
            await _group.DisposeAsync();
        }
    }
}
