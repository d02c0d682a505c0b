using System.ComponentModel;
using System.Diagnostics;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench cluster</c>: cold start of one silo to ready, three silos forming a cluster, and recovery
/// after kill -9 under load, all against a fresh local PostgreSQL.
/// </summary>
public sealed class BenchClusterCommand : AsyncCommand<BenchClusterCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--runs <COUNT>")]
        [Description("Repetitions of each measurement (default 3).")]
        [DefaultValue(3)]
        public int Runs { get; init; } = 3;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine($"[bold]bench cluster[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}");
        await using var bench = await BenchCluster.CreateAsync("cluster", cancellationToken);

        var coldStarts = new List<double>();
        for (var run = 0; run < settings.Runs; run++)
        {
            var clock = Stopwatch.StartNew();
            var silo = (await bench.StartSilosAsync(1, cancellationToken))[0];
            coldStarts.Add(clock.Elapsed.TotalMilliseconds);
            AnsiConsole.MarkupLine($"cold start {run + 1}: {clock.ElapsedMilliseconds} ms to /health/ready");
            await silo.StopAsync(TimeSpan.FromSeconds(30));
        }

        var formations = new List<double>();
        var recoveries = new List<double>();
        for (var run = 0; run < settings.Runs; run++)
        {
            await bench.Silos.DisposeAsync();
            var clock = Stopwatch.StartNew();
            var silos = await bench.StartSilosAsync(3, cancellationToken);
            await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
            await WaitForActiveSilosAsync(connection.Client, 3, cancellationToken);
            formations.Add(clock.Elapsed.TotalMilliseconds);
            AnsiConsole.MarkupLine($"formation {run + 1}: 3 silos active in {clock.ElapsedMilliseconds} ms");

            var result = await new FailoverProbe(connection.Client, $"bench-{run}").RunAsync(victim =>
            {
                silos.Single(s => s.Endpoint.Name == victim).Kill();
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
            recoveries.Add(result.Recovery.TotalMilliseconds);
            AnsiConsole.MarkupLine($"failover {run + 1}: {result.Victim} killed, its {result.KeysOnVictim}/{result.Keys} grains answered again after " +
                                   $"{result.Recovery.TotalMilliseconds:0} ms; {result.Acknowledged} writes acknowledged, {result.Failed} failed, " +
                                   (result.LostWrites.Count == 0 ? "[green]none lost[/]" : $"[red]{result.LostWrites.Count} lost[/]"));
        }

        var table = new Table().AddColumns("measurement", "result");
        table.AddRow("cold start of one silo to ready", Stats.Summary(coldStarts));
        table.AddRow("3 silos started together until all active", Stats.Summary(formations));
        table.AddRow("kill -9: grains of the dead silo answer again", Stats.Summary(recoveries));
        AnsiConsole.Write(table);
        return 0;
    }

    private static async Task WaitForActiveSilosAsync(IClusterClient client, int count, CancellationToken cancellationToken)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        while ((await management.GetHosts(onlyActive: true)).Count < count)
        {
            await Task.Delay(100, cancellationToken);
        }
    }
}
