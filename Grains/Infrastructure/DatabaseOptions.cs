using Npgsql;

namespace Reliability.Infrastructure;

/// <summary>
/// Where each store lives. By default every store shares <see cref="ConnectionString"/> and gets its own
/// schema (named after the store) through the search path; <see cref="Stores"/> overrides any of them,
/// e.g. to put a service in a database of its own.
/// </summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>The shared server and database, e.g. <c>Host=127.0.0.1;Port=5432;Database=reliability;Username=…</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Per-store connection strings (key: store name), used as given.</summary>
    public Dictionary<string, string> Stores { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Create or update the schema when a silo starts (idempotent, serialised across silos).</summary>
    public bool ApplySchema { get; set; } = true;

    /// <summary>How long a starting silo keeps retrying an unreachable database before it gives up.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public bool IsConfigured(string store) =>
        !string.IsNullOrWhiteSpace(ConnectionString) || Stores.ContainsKey(store);

    /// <summary>The connection string of one store, with the application name set for the server's views.</summary>
    public string ConnectionStringFor(string store)
    {
        NpgsqlConnectionStringBuilder builder;
        if (Stores.TryGetValue(store, out var own) && !string.IsNullOrWhiteSpace(own))
        {
            builder = Parse(own, $"{SectionName}:Stores:{store}");
        }
        else if (!string.IsNullOrWhiteSpace(ConnectionString))
        {
            builder = Parse(ConnectionString, $"{SectionName}:ConnectionString");
            builder.SearchPath = store;
        }
        else
        {
            throw new StartupException(
                $"No database is configured for store '{store}': set {SectionName}:ConnectionString " +
                $"(or {SectionName}:Stores:{store}), or run the silo with --Orleans:Mode=Localhost for in-memory storage.");
        }

        builder.ApplicationName ??= "reliability";
        // The providers send the same few statements over and over: let Npgsql prepare them on each
        // pooled connection so PostgreSQL parses and plans them once, not per call. Nothing here sets
        // session state, so pooled connections need no reset (DISCARD ALL) either. Both can be
        // overridden in the connection string.
        if (!HasKey(builder, "Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        if (!HasKey(builder, "No Reset On Close"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    private static bool HasKey(NpgsqlConnectionStringBuilder builder, string key) =>
        builder.Keys.Cast<string>().Any(k => string.Equals(k.Replace(" ", ""), key.Replace(" ", ""), StringComparison.OrdinalIgnoreCase) && builder[k] is not null && builder.ShouldSerialize(k));

    private static NpgsqlConnectionStringBuilder Parse(string connectionString, string setting)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new StartupException($"{setting} is not a valid PostgreSQL connection string: {ex.Message}");
        }
    }
}
