using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Reliability.Infrastructure;

namespace Reliability.Idempotency;

/// <summary>
/// Removes idempotency rows nobody needs: a row last written longer ago than retention plus grace can only
/// hold an expired record (a completed key expires <c>retention</c> after its last write, an abandoned or
/// crashed claim long before). Deletes in batches so that no sweep holds locks for long.
/// </summary>
public sealed partial class IdempotencySweeperGrain(
    IOptions<IdempotencyOptions> options,
    IOptions<ClusterOptions> cluster,
    DatabaseOptions database,
    TimeProvider time,
    IdempotencyMetrics metrics,
    ILogger<IdempotencySweeperGrain> logger) : Grain, IIdempotencySweeperGrain, IRemindable
{
    private const string ReminderName = "sweep";
    private const int BatchSize = 5_000;

    public Task Ensure() => this.EnsureReminderAsync(ReminderName, options.Value.SweepPeriod);

    public async Task ReceiveReminder(string reminderName, TickStatus status) => await SweepNow();

    public async Task<long> SweepNow()
    {
        if (!database.IsConfigured(StoreNames.Idempotency))
        {
            return 0;
        }

        var cutoff = time.GetUtcNow() - options.Value.Retention - options.Value.SweepGrace;
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(StoreNames.Idempotency));
        await connection.OpenAsync();
        var total = await SweepAsync(connection, "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE updated_at < @cutoff LIMIT @batch)", cutoff);
        // Rows from before idempotency_keys (see IdempotencyStorage).
        total += await SweepAsync(connection,
            """
            DELETE FROM orleansstorage WHERE ctid IN (
                SELECT ctid FROM orleansstorage
                 WHERE serviceid = @service AND graintypestring = 'idempotency' AND modifiedon < @cutoff
                 LIMIT @batch)
            """, cutoff);
        if (total > 0)
        {
            metrics.Swept(total);
            LogSwept(total, cutoff);
        }

        return total;
    }

    private async Task<long> SweepAsync(NpgsqlConnection connection, string sql, DateTimeOffset cutoff)
    {
        long total = 0;
        int deleted;
        do
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
            command.Parameters.AddWithValue("cutoff", cutoff);
            command.Parameters.AddWithValue("batch", BatchSize);
            deleted = await command.ExecuteNonQueryAsync();
            total += deleted;
        }
        while (deleted == BatchSize);

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Swept {Count} expired idempotency rows (last written before {Cutoff})")]
    private partial void LogSwept(long count, DateTimeOffset cutoff);
}
