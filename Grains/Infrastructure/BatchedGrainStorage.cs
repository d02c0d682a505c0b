using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;

namespace Reliability.Infrastructure;

/// <summary>
/// Grain storage for grains that write many small states at once, in a table of its own with the shape of
/// <c>view_states</c> (grain_key, grain_type, state_name, payload, version, updated_at). Concurrent reads are
/// answered by one statement, and concurrent writes go to PostgreSQL as one statement — one transaction, one
/// commit — for up to <see cref="MaxBatch"/> grains, instead of one round trip and one commit each (group
/// commit). A request that finds the storage idle is sent at once, so batching adds no delay. Optimistic
/// concurrency is the usual one: the ETag is the row's version, and a write whose version no longer matches
/// fails with <see cref="InconsistentStateException"/>; so does the second of two writes of one grain that
/// meet in one batch (two activations for a moment), whose writer then reads and decides again.
/// </summary>
public class BatchedGrainStorage : IGrainStorage, IAsyncDisposable
{
    /// <summary>Most grains per statement.</summary>
    public const int MaxBatch = 256;

    /// <summary>Statements in flight at once, per direction.</summary>
    private const int Lanes = 4;

    private readonly NpgsqlDataSource _source;
    private readonly IGrainStorageSerializer _serializer;
    private readonly Channel<Pending<Read>> _reads = Channel.CreateUnbounded<Pending<Read>>();
    private readonly Channel<Pending<Write>> _writes = Channel.CreateUnbounded<Pending<Write>>();
    private readonly Task[] _lanes;

    /// <param name="connectionString">The store's database (and schema).</param>
    /// <param name="table">The table, checked to be a plain identifier (it is spliced into the statements).</param>
    /// <param name="durableCommits">
    /// False: commits do not wait for the log to reach disk (<c>synchronous_commit=off</c>), for state that a
    /// later durable write makes durable anyway (see <see cref="Projections.ViewStateStorage"/>).
    /// </param>
    /// <param name="serializer">How states become payloads.</param>
    protected BatchedGrainStorage(string connectionString, string table, bool durableCommits, IGrainStorageSerializer serializer)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(table, "^[a-z_][a-z0-9_]{0,62}$"))
        {
            throw new ArgumentException($"'{table}' is not a plain table name.", nameof(table));
        }

        Table = table;
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!durableCommits)
        {
            builder.Options = "-c synchronous_commit=off";
        }

        _source = NpgsqlDataSource.Create(builder.ConnectionString);
        _serializer = serializer;
        _lanes =
        [
            .. Enumerable.Range(0, Lanes).Select(_ => Task.Run(() => DrainAsync(_reads.Reader, ReadBatchAsync))),
            .. Enumerable.Range(0, Lanes).Select(_ => Task.Run(() => DrainAsync(_writes.Reader, WriteBatchAsync))),
        ];
    }

    protected string Table { get; }

    public virtual async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var pending = new Pending<Read>(new Read(Key.Of(stateName, grainId)));
        await _reads.Writer.WriteAsync(pending);
        await pending.Done.Task;
        if (pending.Item.Payload is { Length: > 0 } payload)
        {
            grainState.State = _serializer.Deserialize<T>(new BinaryData(payload));
            grainState.ETag = pending.Item.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else if (pending.Item.Payload is not null)
        {
            // A tombstone (see ClearStateAsync): no state, but its version, so the next write updates over it.
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = pending.Item.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = false;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public virtual async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var pending = new Pending<Write>(new Write(Key.Of(stateName, grainId), _serializer.Serialize(grainState.State).ToArray(), ExpectedVersion(grainState)));
        await _writes.Writer.WriteAsync(pending);
        await pending.Done.Task;
        if (pending.Item.NewVersion is not { } version)
        {
            throw new InconsistentStateException(
                $"The state of {grainId} was changed or removed by someone else (expected version {grainState.ETag ?? "none"}).", "unknown", grainState.ETag ?? "none");
        }

        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>
    /// Clears by leaving a tombstone (an empty payload) one version on, rather than deleting the row: a
    /// deleted row would come back at version 1, and a stale activation still holding version 1 of the old
    /// one would then write over the new one. A state this activation never read or wrote has nothing to clear.
    /// </summary>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (ExpectedVersion(grainState) is { } expected)
        {
            var key = Key.Of(stateName, grainId);
            await using var command = _source.CreateCommand(
                $"""
                UPDATE {Table} SET payload = ''::bytea, version = version + 1, updated_at = now()
                 WHERE grain_key = $1 AND grain_type = $2 AND state_name = $3 AND version = $4
                RETURNING version
                """);
            command.Parameters.AddWithValue(key.GrainKey);
            command.Parameters.AddWithValue(key.GrainType);
            command.Parameters.AddWithValue(key.StateName);
            command.Parameters.AddWithValue(expected);
            var version = await command.ExecuteScalarAsync() as int?
                ?? throw new InconsistentStateException($"The state of {grainId} was changed by someone else.", "unknown", grainState.ETag!);
            grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.RecordExists = false;
    }

    public virtual async ValueTask DisposeAsync()
    {
        _reads.Writer.TryComplete();
        _writes.Writer.TryComplete();
        await Task.WhenAll(_lanes);
        await _source.DisposeAsync();
    }

    private static int? ExpectedVersion<T>(IGrainState<T> state) =>
        state.ETag is { } etag && int.TryParse(etag, System.Globalization.CultureInfo.InvariantCulture, out var version) ? version : null;

    /// <summary>Takes whatever is waiting (up to a batch), runs it as one statement, and completes each request.</summary>
    private static async Task DrainAsync<T>(ChannelReader<Pending<T>> reader, Func<List<Pending<T>>, Task> run)
    {
        var batch = new List<Pending<T>>(MaxBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                await run(batch);
                batch.ForEach(p => p.Done.TrySetResult());
            }
            catch (Exception ex)
            {
                batch.ForEach(p => p.Done.TrySetException(ex));
            }

            batch.Clear();
        }
    }

    private async Task ReadBatchAsync(List<Pending<Read>> batch)
    {
        await using var command = _source.CreateCommand(
            $"""
            SELECT i.n, v.payload, v.version
              FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(grain_key, grain_type, state_name, n)
              JOIN {Table} v USING (grain_key, grain_type, state_name)
            """);
        AddKeys(command, batch.Select(p => p.Item.Key).ToList());
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var read = batch[(int)reader.GetInt64(0) - 1].Item;
            read.Payload = reader.GetFieldValue<byte[]>(1);
            read.Version = reader.GetInt32(2);
        }
    }

    /// <summary>
    /// Updates the rows whose version still matches and inserts the new ones, in one statement; a grain
    /// missing from what it returns lost the race and gets no new version, as does a second write of a grain
    /// already in the batch.
    /// </summary>
    private async Task WriteBatchAsync(List<Pending<Write>> batch)
    {
        var first = new HashSet<Key>();
        var distinct = batch.Where(p => first.Add(p.Item.Key)).ToList();
        await using var command = _source.CreateCommand(
            $"""
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::int[]) WITH ORDINALITY
                    AS i(grain_key, grain_type, state_name, payload, expected, n)
            ), updated AS (
                UPDATE {Table} v SET payload = i.payload, version = v.version + 1, updated_at = now()
                  FROM input i
                 WHERE i.expected IS NOT NULL AND v.grain_key = i.grain_key AND v.grain_type = i.grain_type
                   AND v.state_name = i.state_name AND v.version = i.expected
                RETURNING i.n, v.version
            ), inserted AS (
                INSERT INTO {Table} (grain_key, grain_type, state_name, payload, version)
                SELECT grain_key, grain_type, state_name, payload, 1 FROM input WHERE expected IS NULL
                ON CONFLICT (grain_key, grain_type, state_name) DO NOTHING
                RETURNING grain_key, grain_type, state_name
            )
            SELECT n, version FROM updated
            UNION ALL
            SELECT i.n, 1 FROM inserted s JOIN input i USING (grain_key, grain_type, state_name)
            """);
        AddKeys(command, distinct.Select(p => p.Item.Key).ToList());
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = distinct.Select(p => p.Item.Payload).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = distinct.Select(p => p.Item.Expected).ToArray() });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            distinct[(int)reader.GetInt64(0) - 1].Item.NewVersion = reader.GetInt32(1);
        }
    }

    private static void AddKeys(NpgsqlCommand command, List<Key> keys)
    {
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = keys.Select(k => k.GrainKey).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = keys.Select(k => k.GrainType).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = keys.Select(k => k.StateName).ToArray() });
    }

    private sealed record Key(string GrainKey, string GrainType, string StateName)
    {
        public static Key Of(string stateName, GrainId grainId) => new(grainId.Key.ToString()!, grainId.Type.ToString()!, stateName);
    }

    private sealed record Read(Key Key)
    {
        public byte[]? Payload { get; set; }

        public int Version { get; set; }
    }

    private sealed record Write(Key Key, byte[] Payload, int? Expected)
    {
        public int? NewVersion { get; set; }
    }

    private sealed class Pending<T>(T item)
    {
        public T Item { get; } = item;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
