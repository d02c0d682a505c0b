using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;

namespace Reliability.Projections;

/// <summary>
/// Grain storage for the view grains, built for what projections do: many small reads and writes at once
/// (a rebuild touches tens of thousands of views). Concurrent reads are answered by one statement, and
/// concurrent writes go to PostgreSQL as one statement — one transaction, one commit — for up to
/// <see cref="MaxBatch"/> views, instead of one round trip and one commit each. A request that finds the
/// storage idle is sent at once, so batching adds no delay. Optimistic concurrency is the usual one: the
/// ETag is the row's version, and a write whose version no longer matches fails with
/// <see cref="InconsistentStateException"/>.
/// </summary>
public sealed class ViewStateStorage : IGrainStorage, IAsyncDisposable
{
    /// <summary>Most views per statement.</summary>
    public const int MaxBatch = 256;

    /// <summary>Statements in flight at once, per direction.</summary>
    private const int Lanes = 4;

    private readonly NpgsqlDataSource _source;
    private readonly IGrainStorageSerializer _serializer;
    private readonly Channel<Pending<Read>> _reads = Channel.CreateUnbounded<Pending<Read>>();
    private readonly Channel<Pending<Write>> _writes = Channel.CreateUnbounded<Pending<Write>>();
    private readonly Task[] _lanes;

    /// <remarks>
    /// Views are written without waiting for their commit to reach disk (<c>synchronous_commit=off</c>):
    /// that wait was most of a projection round under load. Nothing can be lost by it, because a view is
    /// only ever counted as applied by the runner's checkpoint, which is written afterwards with a normal,
    /// durable commit — and PostgreSQL flushes its log in order, so making the checkpoint durable makes
    /// every view write committed before it durable too. A database crash can only lose view writes whose
    /// checkpoint was not durable either; the runner then applies those events again.
    /// </remarks>
    public ViewStateStorage(string connectionString, IGrainStorageSerializer serializer)
    {
        _source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c synchronous_commit=off" }.ConnectionString);
        _serializer = serializer;
        _lanes =
        [
            .. Enumerable.Range(0, Lanes).Select(_ => Task.Run(() => DrainAsync(_reads.Reader, ReadBatchAsync))),
            .. Enumerable.Range(0, Lanes).Select(_ => Task.Run(() => DrainAsync(_writes.Reader, WriteBatchAsync))),
        ];
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var pending = new Pending<Read>(new Read(Key.Of(stateName, grainId)));
        await _reads.Writer.WriteAsync(pending);
        await pending.Done.Task;
        if (pending.Item.Payload is { } payload)
        {
            grainState.State = _serializer.Deserialize<T>(new BinaryData(payload));
            grainState.ETag = pending.Item.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var pending = new Pending<Write>(new Write(Key.Of(stateName, grainId), _serializer.Serialize(grainState.State).ToArray(), ExpectedVersion(grainState)));
        await _writes.Writer.WriteAsync(pending);
        await pending.Done.Task;
        if (pending.Item.NewVersion is not { } version)
        {
            throw new InconsistentStateException(
                $"The view {grainId} was changed or removed by someone else (expected version {grainState.ETag ?? "none"}).", "unknown", grainState.ETag ?? "none");
        }

        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key.Of(stateName, grainId);
        await using var command = _source.CreateCommand(
            "DELETE FROM view_states WHERE grain_key = $1 AND grain_type = $2 AND state_name = $3 AND version = $4");
        command.Parameters.AddWithValue(key.GrainKey);
        command.Parameters.AddWithValue(key.GrainType);
        command.Parameters.AddWithValue(key.StateName);
        command.Parameters.AddWithValue(ExpectedVersion(grainState) ?? 0);
        if (grainState.ETag is not null && await command.ExecuteNonQueryAsync() == 0)
        {
            throw new InconsistentStateException($"The view {grainId} was changed by someone else.", "unknown", grainState.ETag);
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>Deletes every view whose key starts with <paramref name="keyPrefix"/> (a retired generation).</summary>
    public static NpgsqlBatchCommand DeleteByPrefix(string keyPrefix)
    {
        var command = new NpgsqlBatchCommand("DELETE FROM view_states WHERE left(grain_key, length($1)) = $1");
        command.Parameters.AddWithValue(keyPrefix);
        return command;
    }

    public async ValueTask DisposeAsync()
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
            """
            SELECT i.n, v.payload, v.version
              FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(grain_key, grain_type, state_name, n)
              JOIN view_states v USING (grain_key, grain_type, state_name)
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
    /// Updates the rows whose version still matches and inserts the new ones, in one statement; a view
    /// missing from what it returns lost the race and gets no new version.
    /// </summary>
    private async Task WriteBatchAsync(List<Pending<Write>> batch)
    {
        await using var command = _source.CreateCommand(
            """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::int[]) WITH ORDINALITY
                    AS i(grain_key, grain_type, state_name, payload, expected, n)
            ), updated AS (
                UPDATE view_states v SET payload = i.payload, version = v.version + 1, updated_at = now()
                  FROM input i
                 WHERE i.expected IS NOT NULL AND v.grain_key = i.grain_key AND v.grain_type = i.grain_type
                   AND v.state_name = i.state_name AND v.version = i.expected
                RETURNING i.n, v.version
            ), inserted AS (
                INSERT INTO view_states (grain_key, grain_type, state_name, payload, version)
                SELECT grain_key, grain_type, state_name, payload, 1 FROM input WHERE expected IS NULL
                ON CONFLICT (grain_key, grain_type, state_name) DO NOTHING
                RETURNING grain_key, grain_type, state_name
            )
            SELECT n, version FROM updated
            UNION ALL
            SELECT i.n, 1 FROM inserted s JOIN input i USING (grain_key, grain_type, state_name)
            """);
        AddKeys(command, batch.Select(p => p.Item.Key).ToList());
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = batch.Select(p => p.Item.Payload).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = batch.Select(p => p.Item.Expected).ToArray() });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            batch[(int)reader.GetInt64(0) - 1].Item.NewVersion = reader.GetInt32(1);
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
