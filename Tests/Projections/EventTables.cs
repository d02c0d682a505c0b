using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>Direct SQL on the services' event tables and the projection store, to check the views against the source of truth.</summary>
public static class EventTables
{
    /// <summary>How many events the totals view must have applied: every order event, reservations and releases, and order payments charged or refunded.</summary>
    public static async Task<long> TotalsEventsAsync(DatabaseOptions database) =>
        await ScalarAsync(database, StoreNames.Orders, "SELECT count(*) FROM events")
        + await ScalarAsync(database, StoreNames.Inventory, "SELECT count(*) FROM events WHERE event_type IN ('StockReserved', 'StockReleased')")
        + await ScalarAsync(database, StoreNames.Payments,
            "SELECT count(*) FROM events WHERE stream_id LIKE 'payment-order-%' AND event_type IN ('PaymentCharged', 'PaymentRefunded')");

    public static async Task<long> ScalarAsync(DatabaseOptions database, string store, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(store));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.AddWithValue(value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>Appends one event in a transaction of its own that stays open for <paramref name="commitDelay"/> after the insert; returns its position.</summary>
    public static async Task<long> AppendSlowlyAsync(DatabaseOptions database, string store, string stream, int version, string type, string payload, TimeSpan commitDelay)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(store));
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            "INSERT INTO events (stream_id, version, event_type, payload) VALUES ($1, $2, $3, $4::jsonb) RETURNING position", connection, transaction);
        command.Parameters.AddWithValue(stream);
        command.Parameters.AddWithValue(version);
        command.Parameters.AddWithValue(type);
        command.Parameters.AddWithValue(payload);
        var position = (long)(await command.ExecuteScalarAsync())!;
        await Task.Delay(commitDelay);
        await transaction.CommitAsync();
        return position;
    }
}
