using System.ComponentModel;
using System.Globalization;
using Reliability.Client.Bench;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Chaos;

/// <summary>
/// <c>chaos</c>: a managed PostgreSQL and silo processes under a mixed load over HTTP while silos are
/// killed with SIGKILL or paused with SIGSTOP (zombies), PostgreSQL crashes once and restarts cleanly
/// once; then every capability's
/// invariants are checked and the unavailability clients saw is reported per fault. Exit code 1 when an
/// invariant does not hold.
/// </summary>
public sealed class ChaosCommand : AsyncCommand<ChaosCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--duration <DURATION>")]
        [Description("How long the load and the faults run (at least 20s).")]
        [DefaultValue("2m")]
        public string Duration { get; init; } = "2m";

        [CommandOption("--kill-every <DURATION>")]
        [Description("Period of the silo kills (at least 5s).")]
        [DefaultValue("15s")]
        public string KillEvery { get; init; } = "15s";

        [CommandOption("--silos <N>")]
        [DefaultValue(3)]
        public int Silos { get; init; } = 3;

        [CommandOption("--no-postgres-restart")]
        [Description("Do not restart PostgreSQL cleanly (two thirds of the way through).")]
        public bool NoPostgresRestart { get; init; }

        [CommandOption("--no-postgres-crash")]
        [Description("Do not crash PostgreSQL (pg_ctl stop -m immediate, a third of the way through).")]
        public bool NoPostgresCrash { get; init; }

        [CommandOption("--no-pauses")]
        [Description("Only kill silos; do not pause every other one with SIGSTOP.")]
        public bool NoPauses { get; init; }
    }

    /// <summary>
    /// Silo settings for the run: the HTTP API's own per-caller limit is off (the load is one caller, and
    /// the rate limiter is exercised through its own endpoint). Idempotency leases keep their default (30 s):
    /// a key whose silo died mid-request is taken over as soon as the silo is declared dead.
    /// </summary>
    private static readonly Dictionary<string, string> SiloSettings = new()
    {
        ["Http:RateLimitPolicy"] = "",
    };

    /// <summary>The client-visible unavailability per fault that the run reports against.</summary>
    private static readonly TimeSpan UnavailabilityTarget = TimeSpan.FromSeconds(10);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!Durations.TryParse(settings.Duration, out var duration) || duration < TimeSpan.FromSeconds(20))
        {
            throw new CommandException($"--duration must be a duration of at least 20s, such as 60s or 2m (got '{settings.Duration}').");
        }

        if (!Durations.TryParse(settings.KillEvery, out var killEvery) || killEvery < TimeSpan.FromSeconds(5))
        {
            throw new CommandException($"--kill-every must be a duration of at least 5s (got '{settings.KillEvery}').");
        }

        if (settings.Silos is < 2 or > 9)
        {
            throw new CommandException($"--silos must be 2 to 9: a kill must leave a silo standing (got {settings.Silos}).");
        }

        var clock = new Availability();
        void Say(string line) => AnsiConsole.MarkupLine($"[grey][[{clock.Now.TotalSeconds,6:0.0} s]][/] {Markup.Escape(line)}");

        AnsiConsole.MarkupLine($"[bold]chaos[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: {settings.Silos} silos, " +
                               $"load for {Durations.Format(duration)}, a random silo every {Durations.Format(killEvery)} " +
                               (settings.NoPauses ? "killed with kill -9" : $"killed with kill -9 or paused for {ChaosFaults.PauseFor.TotalSeconds:0} s, in turn") +
                               (settings.NoPostgresCrash ? "" : ", one PostgreSQL crash") +
                               (settings.NoPostgresRestart ? "" : ", one PostgreSQL restart"));
        await using var cluster = await BenchCluster.CreateAsync("chaos", cancellationToken, SiloSettings);
        await cluster.StartSilosAsync(settings.Silos, cancellationToken);
        Say($"PostgreSQL and {settings.Silos} silos are up");

        var run = Guid.NewGuid().ToString("N")[..6];
        using var http = new ChaosHttp(cluster.Target.HttpUrls, $"chaos-{run}", clock);
        var load = new ChaosWorkload(http, clock, run);
        await load.SetUpAsync(cancellationToken);

        var start = clock.Now;
        var until = start + duration;
        var faults = new ChaosFaults(cluster.Silos, cluster.Postgres, clock,
            new ChaosFaultOptions(killEvery, !settings.NoPauses, !settings.NoPostgresCrash, !settings.NoPostgresRestart), Say);
        var lanes = new List<Task>
        {
            faults.RunAsync(start, until, cancellationToken),
            ReportProgressAsync(load, clock, until, Say, cancellationToken),
        };
        lanes.AddRange(Enumerable.Range(0, 4).Select(i => load.CartLaneAsync(i, until, cancellationToken)));
        lanes.AddRange(Enumerable.Range(0, 2).Select(i => load.TransferLaneAsync(i, until, cancellationToken)));
        lanes.AddRange(Enumerable.Range(0, 2).Select(i => load.OrderLaneAsync(i, until, cancellationToken)));
        lanes.AddRange(Enumerable.Range(0, 2).Select(i => load.RateLimitLaneAsync(i, until, cancellationToken)));
        await Task.WhenAll(lanes);
        clock.Close();
        Say($"load finished: {clock.Requests:N0} requests, {clock.Failures:N0} unanswered or 5xx");

        foreach (var silo in cluster.Silos.Silos)
        {
            await cluster.Silos.WaitUntilReadyAsync(silo, TimeSpan.FromSeconds(120), cancellationToken);
        }

        var failovers = faults.Faults.Count(f => f.Target.StartsWith("silo", StringComparison.Ordinal));
        var results = new List<InvariantResult>(await new ChaosVerifier(http, load, clock, failovers, Say).VerifyAsync(cancellationToken));
        var pauses = faults.Faults.Count(f => f.Kind.StartsWith("SIGSTOP", StringComparison.Ordinal));
        if (pauses > 0)
        {
            var zombies = faults.ZombiesThatKeptRunning;
            results.Add(new InvariantResult("paused silos find themselves declared dead and stop", zombies.Count == 0,
                zombies.Count == 0 ? $"{pauses} of {pauses} stopped by themselves after SIGCONT" : $"still running: {string.Join(", ", zombies)}"));
        }

        WriteFaults(faults.Faults, clock, until);
        var table = new Table().Title("invariants").AddColumns("invariant", "result", "figures");
        foreach (var result in results)
        {
            table.AddRow(Markup.Escape(result.Invariant), result.Held ? "[green]held[/]" : "[red]VIOLATED[/]", Markup.Escape(result.Detail));
        }

        AnsiConsole.Write(table);
        var errorRate = clock.Requests == 0 ? 0 : 100.0 * clock.Failures / clock.Requests;
        AnsiConsole.MarkupLine($"error rate: {clock.Failures:N0} of {clock.Requests:N0} requests unanswered or 5xx ({errorRate.ToString("0.00", CultureInfo.InvariantCulture)} %)");
        var failed = results.Count(r => !r.Held);
        AnsiConsole.MarkupLine(failed == 0
            ? "[green]chaos: all invariants held[/]"
            : $"[red]chaos: {failed} invariant(s) violated[/]");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Per fault, the longest time any client lane went without an answer, counting outages that began after it and before the next.</summary>
    private static void WriteFaults(IReadOnlyList<Fault> faults, Availability clock, TimeSpan until)
    {
        var outages = clock.Outages;
        var table = new Table().Title($"faults and what clients saw (target: under {UnavailabilityTarget.TotalSeconds:0} s per fault)")
            .AddColumns("fault", "repaired after", "lanes hit", "failed requests", "longest unavailability");
        var ordered = faults.OrderBy(f => f.At).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            var fault = ordered[i];
            var next = i + 1 < ordered.Count ? ordered[i + 1].At : until + ChaosWorkload.Grace;
            var mine = outages.Where(o => o.Start >= fault.At - TimeSpan.FromSeconds(1) && o.Start < next).ToList();
            var longest = mine.Count == 0 ? TimeSpan.Zero : mine.Max(o => o.Length);
            table.AddRow(
                Markup.Escape(fault.Describe()),
                fault.RepairedAfter is { } repaired ? $"{repaired.TotalSeconds:0.0} s" : "-",
                mine.Select(o => o.Lane).Distinct().Count().ToString(CultureInfo.InvariantCulture),
                mine.Sum(o => o.FailedRequests).ToString(CultureInfo.InvariantCulture),
                (longest < UnavailabilityTarget ? "[green]" : "[red]") + $"{longest.TotalSeconds:0.00} s[/]");
        }

        var unattributed = outages.Where(o => ordered.Count == 0 || o.Start < ordered[0].At - TimeSpan.FromSeconds(1)).ToList();
        if (unattributed.Count > 0)
        {
            table.AddRow("(before any fault)", "-", unattributed.Select(o => o.Lane).Distinct().Count().ToString(CultureInfo.InvariantCulture),
                unattributed.Sum(o => o.FailedRequests).ToString(CultureInfo.InvariantCulture), $"{unattributed.Max(o => o.Length).TotalSeconds:0.00} s");
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Every 10 s, what the load has done so far; until <paramref name="until"/>, or until <paramref name="cancellationToken"/> ends it.</summary>
    internal static async Task ReportProgressAsync(ChaosWorkload load, Availability clock, TimeSpan until, Action<string> say, CancellationToken cancellationToken)
    {
        while (clock.Now < until)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var carts = load.Carts.Count(c => c.Acknowledged == true);
            var sagas = load.Sagas.GroupBy(s => s.Kind).ToDictionary(g => g.Key, g => g.Count());
            say($"{clock.Requests:N0} requests ({clock.Failures:N0} failed): {carts:N0} cart items acknowledged, " +
                $"{sagas.GetValueOrDefault("transfer")} transfers, {sagas.GetValueOrDefault("order")} orders, " +
                $"{load.Subjects.Values.Sum(s => s.Allowed + s.Denied):N0} rate-limit checks");
        }
    }
}
