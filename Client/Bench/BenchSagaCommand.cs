using System.ComponentModel;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench saga</c>: transfers (debit → record payment → credit) at a fixed number in flight, each
/// measured from Start until it is terminal, on a durable PostgreSQL.
/// </summary>
public sealed class BenchSagaCommand : AsyncCommand<BenchSagaCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--silos <N>")]
        [DefaultValue(1)]
        public int Silos { get; init; } = 1;

        [CommandOption("--in-flight <N>")]
        [DefaultValue(64)]
        public int InFlight { get; init; } = 64;

        [CommandOption("--duration <DURATION>")]
        [DefaultValue("30s")]
        public string Duration { get; init; } = "30s";

        [CommandOption("--accounts <N>")]
        [DefaultValue(1_000)]
        public int Accounts { get; init; } = 1_000;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!Durations.TryParse(settings.Duration, out var duration) || duration < TimeSpan.FromSeconds(1))
        {
            throw new CommandException($"--duration must be at least 1s (got '{settings.Duration}').");
        }

        AnsiConsole.MarkupLine($"[bold]bench saga[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s), {settings.InFlight} transfers in flight for {Durations.Format(duration)}, {settings.Accounts:N0} accounts");
        await using var bench = await BenchCluster.CreateAsync("saga", cancellationToken);
        await bench.StartSilosAsync(settings.Silos, cancellationToken);
        await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
        var client = connection.Client;
        var accounts = await TransferLoad.OpenAccountsAsync(client, settings.Accounts);
        var result = await TransferLoad.RunAsync(client, accounts, settings.InFlight, duration / 6, duration, cancellationToken);

        var table = new Table().AddColumns("transfers/s", "steps/s", "p50 ms", "p99 ms", "errors");
        table.AddRow(result.PerSecond.ToString("N0"), (result.PerSecond * 3).ToString("N0"), result.P50Ms.ToString("0.0"), result.P99Ms.ToString("0.0"), result.Errors.ToString());
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Targets: at least 500 transfers/s (1,500 durable steps/s), p99 under 100 ms. Anchors: Temporal Cloud's default namespace " +
                               "limit is 400 actions/s; the Durable Task Scheduler reports about 1,400 work items/s for one worker.");
        return 0;
    }
}
