using System.ComponentModel;
using System.Diagnostics;
using Npgsql;
using Reliability.Client.Infrastructure;
using Reliability.Infrastructure;
using Reliability.Services;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench snapshot</c>: the first call to an account with a long history after its activation was
/// collected, with and without a snapshot, on a durable PostgreSQL. The history is written straight into
/// the account's event table (as years of use would leave it); the first call folds all of it, then one
/// command writes a snapshot, and the next cold call starts from it.
/// </summary>
public sealed class BenchSnapshotCommand : AsyncCommand<BenchSnapshotCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--events <N>")]
        [Description("Events in the account's stream (default 100,000).")]
        [DefaultValue(100_000)]
        public int Events { get; init; } = 100_000;

        [CommandOption("--runs <N>")]
        [DefaultValue(3)]
        public int Runs { get; init; } = 3;
    }

    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(100);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Events is < 1_000 or > 10_000_000 || settings.Runs is < 1 or > 20)
        {
            throw new CommandException("--events must be 1,000 to 10,000,000 and --runs 1 to 20.");
        }

        AnsiConsole.MarkupLine($"[bold]bench snapshot[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"first call to an account with {settings.Events:N0} events after deactivation, {settings.Runs} runs");
        await using var bench = await BenchCluster.CreateAsync("snapshot", cancellationToken);
        await bench.StartSilosAsync(1, cancellationToken);
        await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
        var client = connection.Client;
        // The account service's own schema, as the silos' DatabaseOptions name it.
        var accounts = new NpgsqlConnectionStringBuilder(bench.ConnectionString) { SearchPath = StoreNames.Accounts }.ConnectionString;

        var table = new Table().AddColumns("run", "events", "cold call, full replay (ms)", "cold call, from the snapshot (ms)", "ratio");
        var fromSnapshot = new List<double>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            var id = $"bench-snapshot-{run}-{Guid.NewGuid():N}"[..28];
            var account = client.GetGrain<IAccountGrain>(id);
            await account.Open("open", 0m);
            AnsiConsole.MarkupLine($"[grey]run {run}: writing {settings.Events - 1:N0} credits into account-{id}[/]");
            await WriteHistoryAsync(accounts, $"account-{id}", settings.Events, cancellationToken);

            var replay = await ColdCallAsync(client, account, settings.Events);
            await account.Credit("after-history", 1m, "bench");
            var snapshot = await ColdCallAsync(client, account, settings.Events + 1);
            fromSnapshot.Add(snapshot.TotalMilliseconds);
            table.AddRow(run.ToString(), (settings.Events + 1).ToString("N0"), replay.TotalMilliseconds.ToString("0.0"), snapshot.TotalMilliseconds.ToString("0.0"),
                $"{replay / snapshot:0.0}×");
        }

        AnsiConsole.Write(table);
        var median = fromSnapshot.Order().ElementAt(fromSnapshot.Count / 2);
        AnsiConsole.MarkupLine($"median cold call from the snapshot: {median:0.0} ms; target under {Target.TotalMilliseconds:0} ms: " +
                               (median < Target.TotalMilliseconds ? "[green]met[/]" : "[red]not met[/]"));
        return 0;
    }

    /// <summary>Credits of 1, versions 2 … <paramref name="events"/>, each with a command id, in one statement.</summary>
    private static async Task WriteHistoryAsync(string connectionString, string stream, int events, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO events (stream_id, version, event_type, payload, command_id)
            SELECT $1, v, 'AccountCredited', '{"amount":1,"reference":"history"}'::jsonb, 'history-' || v FROM generate_series(2, $2) AS v
            """, connection) { CommandTimeout = 600 };
        command.Parameters.AddWithValue(stream);
        command.Parameters.AddWithValue(events);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Collects every idle activation, then times the first call; checks that it saw the whole history.</summary>
    private static async Task<TimeSpan> ColdCallAsync(IClusterClient client, IAccountGrain account, int expectedVersion)
    {
        await client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await Task.Delay(500);
        var clock = Stopwatch.StartNew();
        var view = await account.Get();
        clock.Stop();
        if (view.Version != expectedVersion)
        {
            throw new CommandException($"the account answered at version {view.Version}, expected {expectedVersion}: it was not read whole.");
        }

        return clock.Elapsed;
    }
}
