using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;
using Npgsql;
using Reliability.Client.Bench;
using Reliability.Client.Chaos;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Partition;

/// <summary>
/// <c>partition</c>: PostgreSQL and every silo on network hosts of their own (namespaces on one bridge), the
/// chaos run's load sent to silos on both sides, and network faults one after another: a silo cut from its
/// peers, a silo cut from the database, a majority/minority split, a flapping link, packet loss, latency.
/// Afterwards the chaos run's invariants are checked, and what is measured rather than asserted is reported
/// per fault: availability on each side, rate-limit over-admission, and how long two activations of one
/// grain coexisted. Exit code 1 when an invariant does not hold; 2 where namespaces cannot be made.
/// </summary>
public sealed class PartitionCommand : AsyncCommand<PartitionCommand.Settings>
{
    public const string PostgresHost = "postgres";

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--silos <N>")]
        [Description("Silos, each on a network host of its own (3 to 7).")]
        [DefaultValue(3)]
        public int Silos { get; init; } = 3;

        [CommandOption("--faults <LIST>")]
        [Description("Comma-separated, in order: isolate, cut-db, split, flap, loss, latency, clock-jump; or all.")]
        [DefaultValue("all")]
        public string Faults { get; init; } = "all";

        [CommandOption("--cut-for <DURATION>")]
        [Description("How long each fault holds before it heals (at least 5s).")]
        [DefaultValue("20s")]
        public string CutFor { get; init; } = "20s";

        [CommandOption("--settle <DURATION>")]
        [Description("Load without a fault after each recovery.")]
        [DefaultValue("10s")]
        public string Settle { get; init; } = "10s";

        [CommandOption("--loss <SHARE>")]
        [Description("The share of packets the loss fault drops (0.01 to 0.9).")]
        [DefaultValue(0.2)]
        public double Loss { get; init; } = 0.2;

        [CommandOption("--directory <KIND>")]
        [Description("The silos' grain directory: default or distributed (Orleans:GrainDirectory).")]
        public string? Directory { get; init; }

        public override ValidationResult Validate()
        {
            if (Silos is < 3 or > 7)
            {
                return ValidationResult.Error($"--silos must be 3 to 7: a split needs a majority (got {Silos}).");
            }

            if (Loss is < 0.01 or > 0.9)
            {
                return ValidationResult.Error($"--loss must be between 0.01 and 0.9 (got {Loss}).");
            }

            if (Directory is not null && !Directory.Equals("default", StringComparison.OrdinalIgnoreCase) && !Directory.Equals("distributed", StringComparison.OrdinalIgnoreCase))
            {
                return ValidationResult.Error($"--directory must be default or distributed (got '{Directory}').");
            }

            return ValidationResult.Success();
        }
    }

    private static readonly Dictionary<string, NetworkFaultKind> FaultNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["isolate"] = NetworkFaultKind.Isolate,
        ["cut-db"] = NetworkFaultKind.CutDatabase,
        ["split"] = NetworkFaultKind.Split,
        ["flap"] = NetworkFaultKind.Flap,
        ["loss"] = NetworkFaultKind.Loss,
        ["latency"] = NetworkFaultKind.Latency,
        ["clock-jump"] = NetworkFaultKind.ClockJump,
    };

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var kinds = ParseFaults(settings.Faults);
        if (!Durations.TryParse(settings.CutFor, out var cutFor) || cutFor < TimeSpan.FromSeconds(5))
        {
            throw new CommandException($"--cut-for must be a duration of at least 5s, such as 20s (got '{settings.CutFor}').");
        }

        if (!Durations.TryParse(settings.Settle, out var settle))
        {
            throw new CommandException($"--settle must be a duration, such as 10s (got '{settings.Settle}').");
        }

        if (await NetworkLab.WhyUnavailableAsync() is { } why)
        {
            throw new CommandException($"partition drills cannot run here: {why}");
        }

        var clock = new Availability();
        void Say(string line) => AnsiConsole.MarkupLine($"[grey][[{clock.Now.TotalSeconds,6:0.0} s]][/] {Markup.Escape(line)}");
        var directory = settings.Directory?.ToLowerInvariant() ?? "the silo's default";
        AnsiConsole.MarkupLine($"[bold]partition[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: {settings.Silos} silos and PostgreSQL " +
                               $"on network hosts of their own; faults {Markup.Escape(string.Join(", ", kinds.Select(Name)))}, each for {Durations.Format(cutFor)}; grain directory: {Markup.Escape(directory)}");

        var benchRoot = Path.Combine(Path.GetTempPath(), "reliability-bench");
        // A drill that died leaves its PostgreSQL running (and its namespaces, which the lab sweeps).
        await ManagedPostgres.SweepAbandonedAsync(benchRoot);
        var siloNames = Enumerable.Range(1, settings.Silos).Select(i => $"silo-{i}").ToList();
        await using var lab = await NetworkLab.CreateAsync([PostgresHost, .. siloNames], Say);
        var database = lab[PostgresHost];
        await using var postgres = await ManagedPostgres.StartAsync(new ManagedPostgresOptions
        {
            RootDirectory = Path.Combine(benchRoot, $"partition-{Environment.ProcessId}"),
            Databases = ["drill"],
            DeleteOnStop = true,
            ListenAddress = database.Address,
            NetworkNamespace = database.Namespace,
            AllowedClients = lab.Cidr,
        }, Say, cancellationToken);
        var connectionString = postgres.ConnectionString("drill");

        var adminToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var siloSettings = new Dictionary<string, string>
        {
            ["Http:RateLimitPolicy"] = "",
            ["Admin:Token"] = adminToken,
            ["Drills:ActivationProbes"] = "true",
            ["Logging:Format"] = "simple",
        };
        if (settings.Directory is { } kind)
        {
            siloSettings["Orleans:GrainDirectory"] = kind.Equals("distributed", StringComparison.OrdinalIgnoreCase) ? "Distributed" : "Default";
        }

        var logs = Path.Combine(RepositoryPaths.RunDirectory, "bench", $"partition-{DateTime.Now:yyyyMMdd-HHmmss}");
        await using var silos = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, siloSettings);
        var started = siloNames.Select(name => silos.Start(new SiloEndpoint(name, 11111, 30000, 8081, RlsPort: 8181, Host: lab[name].Address, Namespace: lab[name].Namespace))).ToList();
        await Task.WhenAll(started.Select(s => silos.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(120), cancellationToken)));
        Say($"PostgreSQL and {settings.Silos} silos are up; silo logs in {logs}");

        var run = Guid.NewGuid().ToString("N")[..6];
        var urls = started.Select(s => s.Endpoint.HttpUrl).ToList();
        using var http = new ChaosHttp(urls, $"partition-{run}", clock, adminToken);
        using var probeHttp = new ChaosHttp(urls, $"partition-{run}-probe", new Availability(), adminToken);
        var load = new ChaosWorkload(http, clock, run);
        await load.SetUpAsync(cancellationToken);
        var probes = new ActivationProbes(probeHttp, urls.Count, clock, run, connectionString);
        await probes.StartClockAsync(cancellationToken);

        var faults = new PartitionFaults(lab, silos, clock,
            new PartitionFaultOptions(kinds, cutFor, settle, TimeSpan.FromSeconds(120), settings.Loss, ct => DeadSilosAsync(connectionString, ct)), Say);

        // The load runs until the faults are done, which is known only then (recovery takes what it takes):
        // the lanes start with a far end and are given the real one afterwards.
        var farEnd = clock.Now + TimeSpan.FromDays(1);
        var lanes = new List<Task>();
        lanes.AddRange(Enumerable.Range(0, 4).Select(i => load.CartLaneAsync(i, farEnd, cancellationToken)));
        lanes.AddRange(Enumerable.Range(0, 2).Select(i => load.TransferLaneAsync(i, farEnd, cancellationToken)));
        lanes.AddRange(Enumerable.Range(0, 2).Select(i => load.OrderLaneAsync(i, farEnd, cancellationToken)));
        lanes.AddRange(Enumerable.Range(0, 2).Select(i => load.RateLimitLaneAsync(i, farEnd, cancellationToken)));
        lanes.Add(probes.RunAsync(farEnd, cancellationToken));
        using var endProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lanes.Add(ChaosCommand.ReportProgressAsync(load, clock, farEnd, Say, endProgress.Token));

        // Load without a fault first, so every lane and probe key is active before the first cut.
        await Task.Delay(settle, cancellationToken);
        await faults.RunAsync(cancellationToken);
        load.EndAt(clock.Now);
        probes.EndAt(clock.Now);
        await endProgress.CancelAsync();
        await Task.WhenAll(lanes);
        clock.Close();
        Say($"load finished: {clock.Requests:N0} requests, {clock.Failures:N0} unanswered or 5xx");

        foreach (var silo in silos.Silos)
        {
            await silos.WaitUntilReadyAsync(silo, TimeSpan.FromSeconds(120), cancellationToken);
        }

        var ran = faults.Faults.Where(f => f.Skipped is null).ToList();
        var verified = await new ChaosVerifier(http, load, clock, ran.Count, Say).VerifyAsync(cancellationToken);
        // Over-admission under partition is measured per fault below, not held to the chaos run's bound.
        var invariants = verified.Where(r => !r.Invariant.StartsWith("rate-limit", StringComparison.Ordinal)).ToList();
        var coexistences = await probes.CoexistencesAsync(cancellationToken);

        WriteFaults(faults.Faults, http.Attempts, load, coexistences, urls, silos, settle);
        var table = new Table().Title("invariants").AddColumns("invariant", "result", "figures");
        foreach (var result in invariants)
        {
            table.AddRow(Markup.Escape(result.Invariant), result.Held ? "[green]held[/]" : "[red]VIOLATED[/]", Markup.Escape(result.Detail));
        }

        AnsiConsole.Write(table);
        WriteHistory(load);
        var longest = coexistences.Count == 0 ? TimeSpan.Zero : coexistences.Max(c => c.Length);
        AnsiConsole.MarkupLine($"duplicate activations: {coexistences.Select(c => c.Key).Distinct().Count()} of {ActivationProbes.Keys} probe keys had two activations at once; " +
                               $"longest coexistence {longest.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s (grain directory: {Markup.Escape(directory)})");
        var failed = invariants.Count(r => !r.Held);
        AnsiConsole.MarkupLine(failed == 0 ? "[green]partition: all invariants held[/]" : $"[red]partition: {failed} invariant(s) violated[/]");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Addresses and ports of silos whose newest generation membership holds dead.</summary>
    private static async Task<IReadOnlySet<(string Host, int Port)>> DeadSilosAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT address, port FROM cluster.orleansmembershiptable m
            WHERE status = 6 AND generation = (SELECT max(generation) FROM cluster.orleansmembershiptable n WHERE n.address = m.address AND n.port = m.port)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var dead = new HashSet<(string, int)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            dead.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return dead;
    }

    private static List<NetworkFaultKind> ParseFaults(string list)
    {
        if (list.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return [.. FaultNames.Values];
        }

        var kinds = new List<NetworkFaultKind>();
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            kinds.Add(FaultNames.TryGetValue(name, out var kind)
                ? kind
                : throw new CommandException($"--faults: '{name}' is not a fault; choose from {string.Join(", ", FaultNames.Keys)}, or all."));
        }

        return kinds.Count > 0 ? kinds : throw new CommandException("--faults names no fault.");
    }

    private static string Name(NetworkFaultKind kind) => FaultNames.First(f => f.Value == kind).Key;

    /// <summary>
    /// Per fault, what clients saw: availability on the cut side and the other while it held, and of the whole
    /// cluster from the heal until it had settled; the longest any lane went unserved; silos that stopped
    /// themselves; rate-limit over-admission; and activations of one probe key that coexisted.
    /// </summary>
    private static void WriteFaults(IReadOnlyList<NetworkFault> faults, IReadOnlyList<Attempt> attempts, ChaosWorkload load,
        IReadOnlyList<Coexistence> coexistences, IReadOnlyList<string> urls, LocalCluster silos, TimeSpan settle)
    {
        var names = urls.Select(url => silos.Silos.First(s => s.Endpoint.HttpUrl == url).Endpoint.Name).ToList();
        var served = attempts.Where(a => a.Lane is not ("verify" or "setup")).ToList();
        AnsiConsole.MarkupLine("[bold]faults and what clients saw[/]");
        for (var i = 0; i < faults.Count; i++)
        {
            var fault = faults[i];
            AnsiConsole.MarkupLine($"[bold]{i + 1}. {Markup.Escape(Name(fault.Kind))}[/]: {Markup.Escape(fault.Description)}");
            if (fault.Skipped is not null)
            {
                AnsiConsole.MarkupLine($"   [yellow]{Markup.Escape(fault.Skipped)}[/]");
                continue;
            }

            var healed = fault.HealedAt ?? fault.At;
            var settled = (fault.RecoveredAt ?? healed) + settle;
            var during = served.Where(a => a.At >= fault.At && a.At < healed).ToList();
            var after = served.Where(a => a.At >= healed && a.At < settled).ToList();
            var longest = LongestGap(served, fault.At, settled);
            var dup = coexistences.Where(c => c.From < settled && c.To > fault.At).ToList();
            var stopped = fault.Stopped.Count == 0 ? "no silo stopped" : $"{string.Join(", ", fault.Stopped)} found themselves declared dead, stopped, and were started again";
            AnsiConsole.WriteLine($"   held {(healed - fault.At).TotalSeconds:0} s; every silo served again {((fault.RecoveredAt ?? healed) - healed).TotalSeconds:0.0} s after the heal; {stopped}");
            AnsiConsole.WriteLine($"   membership: {Timeline(fault.DeclaredDead, "declared dead")}; processes: {Timeline(fault.Exited, "stopped")} (seconds after the fault began)");
            AnsiConsole.WriteLine($"   served while it held: cut side {Served(during.Where(a => fault.Side.Contains(names[a.Silo])).ToList())}, " +
                                  $"other side {Served(during.Where(a => !fault.Side.Contains(names[a.Silo])).ToList())}; " +
                                  $"from the heal until settled: {Served(after)}");
            AnsiConsole.WriteLine($"   longest a client lane went without a served answer: {longest.TotalSeconds:0.0} s");
            AnsiConsole.WriteLine($"   rate-limit over-admission: {OverAdmission(load, fault.At, settled)}");
            AnsiConsole.WriteLine($"   duplicate activations: {(dup.Count == 0 ? "none seen" : $"{dup.Select(d => d.Key).Distinct().Count()} probe keys, coexisting up to {dup.Max(d => d.Length).TotalSeconds:0.0} s")}");
        }
    }

    /// <summary>
    /// The longest stretch, overlapping [<paramref name="from"/>, <paramref name="to"/>), in which one lane got
    /// no served answer: from the first request that went unserved to the answer of the next one served.
    /// </summary>
    private static TimeSpan LongestGap(IReadOnlyList<Attempt> attempts, TimeSpan from, TimeSpan to)
    {
        var longest = TimeSpan.Zero;
        foreach (var lane in attempts.GroupBy(a => a.Lane))
        {
            TimeSpan? since = null;
            foreach (var attempt in lane.OrderBy(a => a.At))
            {
                if (!attempt.Served)
                {
                    since ??= attempt.At;
                    continue;
                }

                if (since is { } start && attempt.Done > from && start < to && attempt.Done - start > longest)
                {
                    longest = attempt.Done - start;
                }

                since = null;
            }
        }

        return longest;
    }

    private static string Timeline(IReadOnlyDictionary<string, TimeSpan> events, string what) =>
        events.Count == 0 ? $"none {what}" : string.Join(", ", events.OrderBy(e => e.Value).Select(e => $"{e.Key} {what} at {e.Value.TotalSeconds:0.0}"));

    private static string Served(IReadOnlyList<Attempt> attempts) =>
        attempts.Count == 0 ? "no requests" : $"{100.0 * attempts.Count(a => a.Served) / attempts.Count:0.0} % of {attempts.Count:N0}";

    /// <summary>
    /// Allowed checks beyond what one token bucket allows in the window (its capacity plus its refill over the
    /// window), summed over the subjects, and the worst subject in bursts (multiples of the capacity).
    /// </summary>
    private static string OverAdmission(ChaosWorkload load, TimeSpan from, TimeSpan to)
    {
        var seconds = (to - from).TotalSeconds;
        var ceiling = ChaosWorkload.BucketCapacity + ChaosWorkload.BucketRatePerSecond * seconds;
        var over = load.RateChecks.Where(c => c.At >= from && c.At < to && c.Allowed)
            .GroupBy(c => c.Subject)
            .Select(g => Math.Max(0, g.Count() - ceiling))
            .ToList();
        var total = over.Sum();
        return total <= 0 ? "none" : $"{total:0} checks; worst subject {over.Max() / ChaosWorkload.BucketCapacity:0.0} bursts";
    }

    /// <summary>The history of the load's writes, per outcome: acknowledged, refused, or never answered (unknown: may or may not have applied).</summary>
    private static void WriteHistory(ChaosWorkload load)
    {
        var carts = load.Carts.ToList();
        AnsiConsole.MarkupLine(
            $"history: {carts.Count:N0} cart POSTs invoked: {carts.Count(c => c.Acknowledged == true):N0} ok, {carts.Count(c => c.Acknowledged == false):N0} failed (refused), " +
            $"{carts.Count(c => c.Acknowledged is null):N0} unknown; {load.Sagas.Count:N0} sagas acknowledged, {load.UnacknowledgedSagaPosts:N0} saga POSTs unknown; " +
            $"{load.RateChecks.Count:N0} rate-limit checks decided");
    }
}
