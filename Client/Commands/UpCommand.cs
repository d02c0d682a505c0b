using System.ComponentModel;
using Reliability.Client.Gateway;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands;

/// <summary>
/// <c>up</c>: the main command. Starts the project's own PostgreSQL, N silo processes, waits until they are
/// ready, prints the dashboard, runs the tour, and keeps everything up until Ctrl-C.
/// </summary>
public sealed class UpCommand : AsyncCommand<UpCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--silos <COUNT>")]
        [Description("Number of silo processes (default 3).")]
        [DefaultValue(3)]
        public int Silos { get; init; } = 3;

        [CommandOption("--db <CONNECTION>")]
        [Description("Use this PostgreSQL database instead of starting the project's own server.")]
        public string? Database { get; init; }

        [CommandOption("--no-tour")]
        [Description("Skip the guided tour.")]
        public bool NoTour { get; init; }

        [CommandOption("--exit-after-tour")]
        [Description("Stop everything once the tour has run, instead of waiting for Ctrl-C.")]
        public bool ExitAfterTour { get; init; }

        public override ValidationResult Validate() =>
            Silos is < 1 or > 9 ? ValidationResult.Error("--silos must be between 1 and 9.") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var siloAssembly = RepositoryPaths.SiloAssembly();
        var runDirectory = Path.Combine(RepositoryPaths.RunDirectory, "runs", DateTime.Now.ToString("yyyyMMdd-HHmmss"));
        Directory.CreateDirectory(runDirectory);
        await StopLeftoversAsync();

        ManagedPostgres? postgres = null;
        LocalCluster? cluster = null;
        DemoUpstream? demoUpstream = null;
        try
        {
            var connectionString = settings.Database;
            if (connectionString is null)
            {
                postgres = await AnsiConsole.Status().StartAsync("starting PostgreSQL…", status =>
                    ManagedPostgres.StartAsync(
                        new ManagedPostgresOptions { RootDirectory = Path.Combine(RepositoryPaths.RunDirectory, "postgres"), Databases = ["reliability"] },
                        message => status.Status(message), cancellationToken));
                connectionString = postgres.ConnectionString("reliability");
                AnsiConsole.MarkupLine($"[green]✓[/] PostgreSQL on 127.0.0.1:{postgres.Port} (data in {Markup.Escape(postgres.RootDirectory)})");
            }

            // Someone else's service for the gateway to stand in front of (the tour's gateway chapter, `gateway try`).
            demoUpstream = await DemoUpstream.StartAsync(0, connectionString: null, honourKeys: false, cancellationToken);
            AnsiConsole.MarkupLine($"[green]✓[/] demo upstream on {demoUpstream.Address}, behind every silo's gateway at {ClusterRunInfo.DemoRoute}");
            cluster = new LocalCluster(siloAssembly, connectionString, runDirectory, new Dictionary<string, string>
            {
                ["Gateway:Routes:demo:PathPrefix"] = ClusterRunInfo.DemoRoute,
                ["Gateway:Routes:demo:Upstreams:0"] = demoUpstream.Address,
                ["Gateway:Routes:demo:StripPrefix"] = "true",
                ["Gateway:Routes:demo:HealthPath"] = "/health",
                // Envoy's rate-limit service reads the demo domain from the repository (edit it live).
                ["RateLimitService:ConfigPath"] = Path.Combine(RepositoryPaths.Root, "docs", "envoy", "ratelimit"),
            });
            var endpoints = Enumerable.Range(0, settings.Silos).Select(i => LocalCluster.PlanEndpoint(i)).ToList();
            await StartSilosAsync(cluster, endpoints, cancellationToken);

            var run = new ClusterRunInfo("reliability", "reliability", connectionString, runDirectory, cluster.Silos.Select(s => s.Endpoint).ToList(), demoUpstream.Address);
            run.Write(RepositoryPaths.ClusterFile);
            ShowCluster(run);

            if (!settings.NoTour)
            {
                var target = new ClusterTarget(connectionString, run.ClusterId, run.ServiceId, run.Silos.Select(s => s.HttpUrl).ToList());
                await using var connection = await ClusterConnection.ConnectAsync(target, cancellationToken);
                await Tour.Tour.RunAsync(new Tour.TourContext(connection, demoUpstream.Address, run.RlsUrls), cancellationToken);
            }

            if (!settings.ExitAfterTour)
            {
                AnsiConsole.MarkupLine($"The cluster is up. Dashboard: [link]{run.DashboardUrl}[/]. In another terminal: [bold]dotnet Client/bin/Release/net10.0/Client.dll cluster status[/]. Press [bold]Ctrl-C[/] to stop.");
                await WatchAsync(cluster, cancellationToken);
            }

            return 0;
        }
        finally
        {
            await AnsiConsole.Status().StartAsync("stopping…", async status =>
            {
                if (cluster is not null)
                {
                    status.Status("stopping the silos…");
                    await cluster.DisposeAsync();
                }

                if (demoUpstream is not null)
                {
                    await demoUpstream.DisposeAsync();
                }

                if (postgres is not null)
                {
                    status.Status("stopping PostgreSQL…");
                    await postgres.StopAsync();
                }
            });
            File.Delete(RepositoryPaths.ClusterFile);
            AnsiConsole.MarkupLine($"Stopped. Logs are in {Markup.Escape(runDirectory)}.");
        }
    }

    private static async Task StartSilosAsync(LocalCluster cluster, IReadOnlyList<SiloEndpoint> endpoints, CancellationToken cancellationToken)
    {
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new SpinnerColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var waits = endpoints.Select(async endpoint =>
                {
                    var task = progress.AddTask($"{endpoint.Name} (silo {endpoint.SiloPort}, gateway {endpoint.GatewayPort}, http {endpoint.HttpPort}, rls {endpoint.RlsPort})", maxValue: 1);
                    var silo = cluster.Start(endpoint);
                    await cluster.WaitUntilReadyAsync(silo, TimeSpan.FromSeconds(120), cancellationToken);
                    task.Increment(1);
                    task.Description = $"[green]✓[/] {endpoint.Name} ready on {endpoint.HttpUrl}";
                });
                await Task.WhenAll(waits);
            });
    }

    private static void ShowCluster(ClusterRunInfo run)
    {
        var table = new Table().AddColumns("silo", "pid", "silo port", "gateway", "HTTP", "rate-limit service (gRPC, h2c)");
        foreach (var silo in run.Silos)
        {
            table.AddRow(silo.Name, silo.ProcessId.ToString(), silo.SiloPort.ToString(), silo.GatewayPort.ToString(), silo.HttpUrl, silo.RlsPort > 0 ? silo.RlsUrl : "off");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Silo logs: {Markup.Escape(Path.GetRelativePath(RepositoryPaths.Root, run.RunDirectory))}/<silo>.log");
        AnsiConsole.MarkupLine($"Dashboard: [bold link]{run.DashboardUrl}[/] (every silo serves it under /dashboard/)");
    }

    /// <summary>Waits for Ctrl-C, reporting any silo that exits on its own.</summary>
    private static async Task WatchAsync(LocalCluster cluster, CancellationToken cancellationToken)
    {
        var reported = new HashSet<string>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                foreach (var silo in cluster.Silos.Where(s => s.HasExited && reported.Add(s.Endpoint.Name)))
                {
                    AnsiConsole.MarkupLine($"[red]{silo.Endpoint.Name} exited[/]; its log: {Markup.Escape(silo.LogFile)}");
                }

                await Task.Delay(1000, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Silos of an earlier run that died without cleaning up still hold the ports: stop them.</summary>
    private static async Task StopLeftoversAsync()
    {
        if (ClusterRunInfo.TryRead(RepositoryPaths.ClusterFile) is not { } previous)
        {
            return;
        }

        foreach (var silo in previous.Silos.Where(s => s.ProcessId > 0))
        {
            var commandLine = $"/proc/{silo.ProcessId}/cmdline";
            if (File.Exists(commandLine) && File.ReadAllText(commandLine).Contains("Silo.dll", StringComparison.Ordinal))
            {
                await ProcessRunner.RunAsync("kill", ["-KILL", silo.ProcessId.ToString()], TimeSpan.FromSeconds(5));
            }
        }

        File.Delete(RepositoryPaths.ClusterFile);
    }
}
