using System.Text.RegularExpressions;
using Npgsql;

namespace Reliability.Infrastructure;

/// <summary>
/// Applies a store's SQL scripts. Every script is idempotent, and all silos take one advisory lock per
/// database first, so any number of silos may start at once.
/// </summary>
public static partial class SchemaInstaller
{
    // An arbitrary constant shared by every process of this project: "schema" in ASCII.
    private const long AdvisoryLockKey = 0x736368656D61;

    public static async Task ApplyAsync(StoreDefinition store, string connectionString, CancellationToken cancellationToken)
    {
        var schema = SchemaOf(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
        if (schema is not null)
        {
            // The name was checked against SafeIdentifier, so it can be spliced in.
            await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {schema}", cancellationToken);
        }

        foreach (var script in store.Scripts)
        {
            await ExecuteAsync(connection, SqlScripts.Read(script), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Checks that a store's schema exists, for silos started with schema application turned off.</summary>
    public static async Task<bool> ExistsAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>The first schema of the connection's search path, or null when it has none.</summary>
    public static string? SchemaOf(string connectionString)
    {
        var searchPath = new NpgsqlConnectionStringBuilder(connectionString).SearchPath;
        if (string.IsNullOrWhiteSpace(searchPath))
        {
            return null;
        }

        var first = searchPath.Split(',')[0].Trim();
        return SafeIdentifier().IsMatch(first)
            ? first
            : throw new StartupException(
                $"Search Path '{first}' is not a plain lower-case schema name (letters, digits, underscore).");
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SafeIdentifier();
}
