using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

/// <summary>
/// Waits for the database (retrying while it is briefly down) and applies, or checks, every store's schema.
/// </summary>
public static class DatabaseStartup
{
    public static async Task PrepareAsync(DatabaseOptions database, ILogger logger, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        foreach (var store in StoreCatalog.All)
        {
            var connectionString = database.ConnectionStringFor(store.Name);
            var attempt = 0;
            while (true)
            {
                attempt++;
                try
                {
                    if (database.ApplySchema)
                    {
                        await SchemaInstaller.ApplyAsync(store, connectionString, cancellationToken);
                    }
                    else if (!await SchemaInstaller.ExistsAsync(connectionString, cancellationToken))
                    {
                        throw new StartupException(
                            $"Store '{store.Name}' has no schema and Database:ApplySchema is false: " +
                            "apply it with `Silo --schema-only` or start with --Database:ApplySchema=true.");
                    }

                    break;
                }
                catch (Exception ex) when (IsTransient(ex) && clock.Elapsed < database.StartupTimeout)
                {
                    var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 250 * Math.Pow(2, Math.Min(attempt, 5))));
                    logger.LogWarning("Database for store {Store} not reachable yet ({Reason}); retrying in {Delay} ms",
                        store.Name, ex.Message, (int)delay.TotalMilliseconds);
                    await Task.Delay(delay, cancellationToken);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    throw Explain(ex, store.Name, database);
                }
            }
        }

        logger.LogInformation("Schema ready for {Count} stores in {Elapsed} ms", StoreCatalog.All.Count, clock.ElapsedMilliseconds);
    }

    /// <summary>Errors worth waiting out: the server is unreachable, starting, shutting down or out of connections.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState is "57P01" or "57P02" or "57P03" or "53300" or "08006" or "08001",
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } => true,
        NpgsqlException npgsql => npgsql.IsTransient,
        TimeoutException => true,
        _ => false,
    };

    private static StartupException Explain(Exception ex, string store, DatabaseOptions database)
    {
        var setting = database.Stores.ContainsKey(store) ? $"Database:Stores:{store}" : "Database:ConnectionString";
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionStringFor(store));
        var where = $"{builder.Host}:{builder.Port}/{builder.Database}";
        var reason = ex switch
        {
            PostgresException { SqlState: "28P01" or "28000" } => $"authentication failed for user '{builder.Username}'",
            PostgresException { SqlState: "3D000" } => $"database '{builder.Database}' does not exist",
            PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
            _ when IsTransient(ex) => $"not reachable after {database.StartupTimeout.TotalSeconds:0} s ({ex.Message})",
            _ => ex.Message,
        };
        return new StartupException($"Database for store '{store}' at {where}: {reason}. Check {setting}.", ex);
    }
}
