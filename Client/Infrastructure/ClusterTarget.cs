using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Client.Infrastructure;

/// <summary>Which cluster the client talks to: its membership store, ids, and the silos' HTTP addresses.</summary>
public sealed record ClusterTarget(string ConnectionString, string ClusterId, string ServiceId, IReadOnlyList<string> HttpUrls)
{
    public const string EnvironmentVariable = "RELIABILITY_DB";

    public string ClusterStoreConnectionString => new NpgsqlConnectionStringBuilder(ConnectionString)
    {
        SearchPath = StoreNames.Cluster,
        ApplicationName = "reliability-client",
    }.ConnectionString;

    /// <summary>Host, port and database, without credentials: safe to print.</summary>
    public string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    /// <summary>--db wins, then RELIABILITY_DB, then the cluster that <c>up</c> started (.run/cluster.json).</summary>
    public static ClusterTarget Resolve(string? connectionString, string? httpUrls = null, string clusterId = "reliability", string serviceId = "reliability")
    {
        var urls = httpUrls?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        connectionString ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(connectionString) && ClusterRunInfo.TryRead(RepositoryPaths.ClusterFile) is { } run)
        {
            return new ClusterTarget(run.ConnectionString, run.ClusterId, run.ServiceId, urls.Length > 0 ? urls : run.Silos.Select(s => s.HttpUrl).ToList());
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new CommandException(
                "No cluster to talk to: start one with ./run.sh (it records itself in .run/cluster.json), " +
                $"or pass --db \"<connection string>\" or set {EnvironmentVariable}.");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new CommandException($"--db / {EnvironmentVariable} is not a valid PostgreSQL connection string: {ex.Message}");
        }

        return new ClusterTarget(connectionString, clusterId, serviceId, urls.Length > 0 ? urls : ["http://127.0.0.1:8080"]);
    }
}
