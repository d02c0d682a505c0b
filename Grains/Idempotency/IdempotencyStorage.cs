using Npgsql;
using Orleans.Storage;
using Reliability.Infrastructure;

namespace Reliability.Idempotency;

/// <summary>
/// The keys' state in <c>idempotency_keys</c>, with group commit: the claims and completions of many keys
/// reach PostgreSQL as one statement and one durable commit (a claim must be durable before its request runs,
/// so commits here wait for the disk). Under load this turns two commits per request into a share of one.
/// <para>
/// Keys written before this table existed are in the ADO.NET storage (<see cref="LegacyName"/>): while any
/// are left there, a key missing here is looked up there, and the first write of such a key moves its record
/// here and fails as a conflict, so that the writer reads the moved record and decides on it (a completed key
/// still replays; it is never claimed afresh). The sweeper empties the old table with the same retention.
/// </para>
/// </summary>
public sealed class IdempotencyStorage(string connectionString, IGrainStorageSerializer serializer, IGrainStorage legacy)
    : BatchedGrainStorage(connectionString, "idempotency_keys", durableCommits: true, serializer)
{
    public const string LegacyName = "idempotency-legacy";

    private readonly string _connectionString = connectionString;
    private Task<bool>? _legacyRows;

    public override async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await base.ReadStateAsync(stateName, grainId, grainState);
        if (grainState.ETag is null && await LegacyRowsAsync())
        {
            var old = new GrainState<T>();
            await legacy.ReadStateAsync(stateName, grainId, old);
            if (old.ETag is not null)
            {
                // Its first write here moves it (see WriteStateAsync): the ETag stays null.
                grainState.State = old.State;
                grainState.RecordExists = true;
            }
        }
    }

    public override async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is null && await LegacyRowsAsync())
        {
            var old = new GrainState<T>();
            await legacy.ReadStateAsync(stateName, grainId, old);
            if (old.ETag is not null)
            {
                try
                {
                    await base.WriteStateAsync(stateName, grainId, new GrainState<T>(old.State));
                }
                catch (InconsistentStateException)
                {
                    // Someone moved it first.
                }

                throw new InconsistentStateException($"The key {grainId} had a record from before idempotency_keys; it was moved, read it again.", "unknown", "none");
            }
        }

        await base.WriteStateAsync(stateName, grainId, grainState);
    }

    /// <summary>Whether the old table holds keys: asked once, and again only if asking failed (the database was not ready).</summary>
    private Task<bool> LegacyRowsAsync()
    {
        var asked = _legacyRows;
        if (asked is null || asked.IsFaulted || asked.IsCanceled)
        {
            _legacyRows = asked = HasLegacyRowsAsync();
        }

        return asked;
    }

    private async Task<bool> HasLegacyRowsAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM orleansstorage WHERE graintypestring = 'idempotency')", connection);
        return await command.ExecuteScalarAsync() is true;
    }
}
