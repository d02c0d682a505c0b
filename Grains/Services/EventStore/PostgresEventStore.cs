using Npgsql;
using NpgsqlTypes;

namespace Reliability.Services.EventStore;

/// <summary>
/// Events in the service's own <c>events</c> table. An append is one INSERT of all the command's events;
/// the unique (stream_id, version) constraint is the optimistic-concurrency check.
/// </summary>
public sealed class PostgresEventStore(string name, NpgsqlDataSource source) : IEventStore
{
    private const string UniqueViolation = "23505";

    public string Name => name;

    public NpgsqlDataSource Source => source;

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            "SELECT position, stream_id, version, event_type, payload::text, command_id, recorded_at FROM events WHERE stream_id = $1 ORDER BY version");
        command.Parameters.AddWithValue(streamId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(Read(reader));
        }

        return events;
    }

    public async Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        await using var command = source.CreateCommand(
            """
            INSERT INTO events (stream_id, version, event_type, payload, command_id)
            SELECT $1, $2 + n, t, p::jsonb, c FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(t, p, c, n)
            RETURNING position
            """);
        command.Parameters.AddWithValue(streamId);
        command.Parameters.AddWithValue(expectedVersion);
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Type).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.CommandId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var positions = new List<long>(events.Count);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                positions.Add(reader.GetInt64(0));
            }
        }
        catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
        {
            throw new ConcurrencyConflictException(streamId, expectedVersion);
        }

        positions.Sort();
        return new AppendResult(expectedVersion + events.Count, positions);
    }

    public static RecordedEvent Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6));
}
