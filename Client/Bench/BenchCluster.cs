using Reliability.Client.Infrastructure;
using Spectre.Console;

namespace Reliability.Client.Bench;

/// <summary>A throw-away PostgreSQL and silo processes for one benchmark run; everything is stopped on dispose.</summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private BenchCluster(ManagedPostgres postgres, LocalCluster silos, string connectionString)
    {
        Postgres = postgres;
        Silos = silos;
        ConnectionString = connectionString;
    }

    public ManagedPostgres Postgres { get; }

    public LocalCluster Silos { get; }

    public string ConnectionString { get; }

    public ClusterTarget Target => new(ConnectionString, "reliability", "reliability", Silos.Silos.Select(s => s.Endpoint.HttpUrl).ToList());

    /// <summary>Starts PostgreSQL (durable settings, as in production) and no silos yet; <paramref name="siloSettings"/> are added to every silo's configuration.</summary>
    public static async Task<BenchCluster> CreateAsync(string name, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? siloSettings = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "reliability-bench", $"{name}-{Environment.ProcessId}");
        var postgres = await ManagedPostgres.StartAsync(
            new ManagedPostgresOptions { RootDirectory = root, Databases = ["bench"], DeleteOnStop = true }, cancellationToken: cancellationToken);
        var connectionString = postgres.ConnectionString("bench");
        var logs = Path.Combine(RepositoryPaths.RunDirectory, "bench", $"{name}-{DateTime.Now:yyyyMMdd-HHmmss}");
        var silos = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, 
            new Dictionary<string, string>(siloSettings ?? new Dictionary<string, string>()) { ["Logging:Format"] = "simple" });
        return new BenchCluster(postgres, silos, connectionString);
    }

    /// <summary>Starts <paramref name="count"/> silos at once and waits until all are ready.</summary>
    public async Task<IReadOnlyList<SiloProcess>> StartSilosAsync(int count, CancellationToken cancellationToken)
    {
        var started = Enumerable.Range(Silos.Silos.Count, count).Select(i => Silos.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        await Task.WhenAll(started.Select(s => Silos.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(120), cancellationToken)));
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        await Silos.DisposeAsync();
        await Postgres.StopAsync();
        AnsiConsole.MarkupLine($"[grey]silo logs: {Markup.Escape(Silos.LogDirectory)}[/]");
    }
}
