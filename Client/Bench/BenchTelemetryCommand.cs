using System.ComponentModel;
using System.Globalization;
using Reliability.Client.Infrastructure;
using Reliability.RateLimiting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench telemetry</c>: what OpenTelemetry costs. Two clusters side by side, one with telemetry off
/// (no /metrics, no traces, no export) and one with it on as in production (traces sampled at
/// <c>--sampling</c>, OTLP export of traces and metrics to a local receiver with the exporters' default
/// intervals, /metrics scraped every 15 s), run <c>bench ratelimit</c>'s check and <c>bench saga</c>'s
/// transfer in interleaved rounds.
/// </summary>
public sealed class BenchTelemetryCommand : AsyncCommand<BenchTelemetryCommand.Settings>
{
    public sealed class Settings : RoundsBenchSettings
    {
        [CommandOption("--sampling <RATIO>")]
        [Description("The share of traces recorded on the cluster with telemetry on (default 0.1).")]
        [DefaultValue(0.1)]
        public double Sampling { get; init; } = 0.1;

        [CommandOption("--subjects <N>")]
        [DefaultValue(10_000)]
        public int Subjects { get; init; } = 10_000;

        [CommandOption("--swap")]
        [Description("Make and start the telemetry-on cluster first instead of second.")]
        public bool Swap { get; init; }

        [CommandOption("--only <SCENARIO>")]
        [Description("check or transfer: run one pair only.")]
        public string? Only { get; init; }

        [CommandOption("--calibrate")]
        [Description("Both clusters with telemetry off: what the two sides differ by with nothing to tell them apart (the bench's own bias and noise).")]
        public bool Calibrate { get; init; }
    }

    private const int CheckInFlight = 256;
    private const int TransferInFlight = 64;
    private static RateLimitPolicy Policy => BenchRateLimitCommand.Policy;

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var duration = settings.MeasuredDuration();
        if (settings.Sampling is < 0 or > 1 || settings.Silos is < 1 or > 3 || settings.Subjects < 1 || settings.Only is not (null or "check" or "transfer"))
        {
            throw new CommandException("--sampling is 0 to 1, --silos 1 to 3 (per cluster), --subjects at least 1, --only check or transfer.");
        }

        AnsiConsole.MarkupLine($"[bold]bench telemetry[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s) per cluster, checks at {CheckInFlight} and transfers at {TransferInFlight} in flight, " +
                               $"{Durations.Format(duration)} × {settings.Rounds} rounds, sampling {settings.Sampling:0.###}");
        await using var sink = await OtlpSink.StartAsync(cancellationToken);
        var offSettings = new Dictionary<string, string> { ["Telemetry:Prometheus"] = "false" };
        var onSettings = settings.Calibrate ? offSettings : new Dictionary<string, string>
        {
            ["Telemetry:SamplingRatio"] = settings.Sampling.ToString(CultureInfo.InvariantCulture),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        };

        // The cluster made and started first runs slower here by up to 15% with identical settings (see
        // --calibrate), so --swap makes the telemetry-on cluster the first one; a run each way cancels that out.
        await using var first = await BenchCluster.CreateAsync(settings.Swap ? "telemetry-on" : "telemetry-off", cancellationToken, settings.Swap ? onSettings : offSettings);
        await using var second = await BenchCluster.CreateAsync(settings.Swap ? "telemetry-off" : "telemetry-on", cancellationToken, settings.Swap ? offSettings : onSettings);
        await first.StartSilosAsync(settings.Silos, cancellationToken);
        await second.StartSilosAsync(settings.Silos, cancellationToken);
        await using var firstClient = await ClusterConnection.ConnectAsync(first.Target, cancellationToken);
        await using var secondClient = await ClusterConnection.ConnectAsync(second.Target, cancellationToken);
        var (on, offClient, onClient) = settings.Swap ? (first, secondClient, firstClient) : (second, firstClient, secondClient);

        using var scraping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var scraper = settings.Calibrate ? Task.FromResult(0) : ScrapeAsync(on.Target.HttpUrls, scraping.Token);
        var checks = new List<(string Name, Func<long, ValueTask> Operation)>();
        var transfers = new List<(string Name, Func<long, ValueTask> Operation)>();
        foreach (var (label, connection) in new[] { ("telemetry off", offClient), (settings.Calibrate ? "telemetry off (second cluster)" : "telemetry on", onClient) })
        {
            var client = connection.Client;
            await client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey).Upsert(Policy);
            var limiters = Enumerable.Range(0, settings.Subjects).Select(i => client.GetRateLimiter($"subject-{i}")).ToArray();
            var request = new RateLimitRequest([Policy.Name], 1);
            checks.Add(($"rate-limit check, {label}", async i =>
            {
                if ((await limiters[i % limiters.Length].Check(request)).Problem is { } problem)
                {
                    throw new InvalidOperationException(problem.Error.Message);
                }
            }));
            var accounts = await TransferLoad.OpenAccountsAsync(client, 1_000);
            transfers.Add(($"transfer saga, {label}", TransferLoad.Operation(client, accounts)));
        }

        // Every subject activated and the transfer path warm on both clusters before anything is measured.
        foreach (var (name, operation) in checks)
        {
            await AnsiConsole.Status().StartAsync($"warming up: {name}…", _ => Parallel.ForAsync(0L, settings.Subjects,
                new ParallelOptions { MaxDegreeOfParallelism = CheckInFlight, CancellationToken = cancellationToken }, async (i, _) => await operation(i)));
        }

        foreach (var (name, operation) in transfers)
        {
            await AnsiConsole.Status().StartAsync($"warming up: {name}…", _ => LoadRunner.RunAsync(name, TransferInFlight, TimeSpan.Zero, duration / 3, operation, cancellationToken));
        }

        IReadOnlyList<RoundsResult> checkRounds = settings.Only is null or "check" ? await AlternatingRoundsAsync(checks, settings.Rounds, CheckInFlight, duration, cancellationToken) : [];
        IReadOnlyList<RoundsResult> transferRounds = settings.Only is null or "transfer" ? await AlternatingRoundsAsync(transfers, settings.Rounds, TransferInFlight, duration, cancellationToken) : [];
        await scraping.CancelAsync();
        var scrapes = await scraper;

        AnsiConsole.Write(LoadRunner.RoundsTable([.. checkRounds, .. transferRounds]));
        AnsiConsole.MarkupLine($"The cluster with telemetry on exported {sink.Requests:N0} OTLP requests ({sink.Bytes / 1024.0 / 1024.0:0.0} MiB) and was scraped {scrapes} times.");
        foreach (var (name, pair) in new[] { ("rate-limit check", checkRounds), ("transfer saga", transferRounds) }.Where(p => p.Item2.Count == 2))
        {
            var ratio = pair[1].Median.PerSecond / pair[0].Median.PerSecond;
            AnsiConsole.MarkupLine($"{name}: telemetry on runs at {ratio:0.000}× telemetry off ({(1 - ratio) * 100:0.0}% cost; target at most 5%)");
        }

        return checkRounds.Concat(transferRounds).Sum(r => r.Median.Errors) == 0 ? 0 : 1;
    }

    /// <summary>
    /// The two sides of a pair in rounds, the first side first in odd rounds and second in even ones, so
    /// that going first or second (a GC or a catch-up of the other cluster left behind) falls on both alike.
    /// </summary>
    private static async Task<IReadOnlyList<RoundsResult>> AlternatingRoundsAsync(
        IReadOnlyList<(string Name, Func<long, ValueTask> Operation)> pair, int rounds, int inFlight, TimeSpan duration, CancellationToken cancellationToken)
    {
        var results = pair.Select(_ => new List<LoadResult>()).ToList();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var i in round % 2 == 1 ? new[] { 0, 1 } : [1, 0])
            {
                var (name, operation) = pair[i];
                results[i].Add(await AnsiConsole.Status().StartAsync($"round {round}/{rounds}: {name}…",
                    _ => LoadRunner.RunAsync(name, inFlight, TimeSpan.FromSeconds(1), duration, operation, cancellationToken)));
            }
        }

        return [.. results.Select(r => new RoundsResult(r.OrderBy(x => x.PerSecond).ElementAt(r.Count / 2) with { Errors = r.Sum(x => x.Errors) }, r))];
    }

    /// <summary>What a Prometheus with a 15 s interval does to the silos: GET /metrics on each.</summary>
    private static async Task<int> ScrapeAsync(IReadOnlyList<string> silos, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var scrapes = 0;
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(15), cancellationToken);
                foreach (var silo in silos)
                {
                    using var response = await http.GetAsync($"{silo}/metrics", cancellationToken);
                    _ = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    scrapes++;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return scrapes;
        }
    }
}
