using System.ComponentModel;
using System.Net;
using System.Text;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench gateway</c>: keyed POSTs through the gateway to the demo upstream, which makes one durable
/// PostgreSQL insert per request (the cost of a real service's write), against the same POSTs sent straight
/// to the upstream and through the gateway's YARP with idempotency off, in one run on one server.
/// </summary>
public sealed class BenchGatewayCommand : AsyncCommand<BenchGatewayCommand.Settings>
{
    public sealed class Settings : RoundsBenchSettings
    {
        [CommandOption("--in-flight <N>")]
        [DefaultValue(64)]
        public int InFlight { get; init; } = 64;

        [CommandOption("--replay-keys <N>")]
        [Description("Completed keys the replay scenario sends again (default 5,000).")]
        [DefaultValue(5_000)]
        public int ReplayKeys { get; init; } = 5_000;

        [CommandOption("--only <TEXT>")]
        [Description("Run only the scenarios whose name contains TEXT (e.g. 'first-time'), to profile one; no ratios then.")]
        public string? Only { get; init; }
    }

    private static readonly byte[] Body = """{"sku":"book-1","quantity":1}"""u8.ToArray();

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var duration = settings.MeasuredDuration();

        if (settings.Silos is < 1 or > 5 || settings.InFlight is < 1 or > 1024 || settings.Rounds < 1 || settings.ReplayKeys < 1)
        {
            throw new CommandException("--silos is 1 to 5, --in-flight 1 to 1024, --rounds and --replay-keys at least 1.");
        }

        AnsiConsole.MarkupLine($"[bold]bench gateway[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s), {settings.InFlight} in flight, {Durations.Format(duration)} × {settings.Rounds} rounds");
        var upstreamPort = FreePorts.Next();
        var upstreamAddress = $"http://127.0.0.1:{upstreamPort}";
        await using var bench = await BenchCluster.CreateAsync("gateway", cancellationToken, new Dictionary<string, string>
        {
            ["Gateway:Routes:keyed:PathPrefix"] = "/keyed",
            ["Gateway:Routes:keyed:Upstreams:0"] = upstreamAddress,
            ["Gateway:Routes:keyed:StripPrefix"] = "true",
            ["Gateway:Routes:plain:PathPrefix"] = "/plain",
            ["Gateway:Routes:plain:Upstreams:0"] = upstreamAddress,
            ["Gateway:Routes:plain:StripPrefix"] = "true",
            ["Gateway:Routes:plain:Idempotency"] = "false",
        });
        await using var upstream = await UpstreamProcess.StartAsync(bench.ConnectionString, port: upstreamPort, cancellationToken: cancellationToken);
        var silos = await bench.StartSilosAsync(settings.Silos, cancellationToken);
        var gateways = silos.Select(s => s.Endpoint.HttpUrl.TrimEnd('/')).ToList();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.InFlight * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };

        var run = Guid.NewGuid().ToString("N")[..8];
        await AnsiConsole.Status().StartAsync($"completing {settings.ReplayKeys:N0} keys to replay…", async _ =>
            await Parallel.ForAsync(0, settings.ReplayKeys, new ParallelOptions { MaxDegreeOfParallelism = settings.InFlight, CancellationToken = cancellationToken },
                async (i, _) => await PostAsync(http, $"{gateways[i % gateways.Count]}/keyed/orders", $"replay-{run}-{i}", HttpStatusCode.Created)));

        // New keys must be new in every round: the load runner numbers operations from zero each time.
        var epoch = 0;
        var scenarios = new List<(string Name, Func<long, ValueTask> Operation)>
        {
            ("upstream direct: POST, 1 durable insert", async i => await PostAsync(http, $"{upstreamAddress}/orders", $"direct-{run}-{epoch}-{i}", HttpStatusCode.Created)),
            ("gateway, idempotency off (YARP only)", async i => await PostAsync(http, $"{gateways[(int)(i % gateways.Count)]}/plain/orders", $"plain-{run}-{epoch}-{i}", HttpStatusCode.Created)),
            ("gateway: first-time keyed POST", async i => await PostAsync(http, $"{gateways[(int)(i % gateways.Count)]}/keyed/orders", $"new-{run}-{epoch}-{i}", HttpStatusCode.Created)),
            ("gateway: replay of a completed key", async i => await PostAsync(http, $"{gateways[(int)(i % gateways.Count)]}/keyed/orders", $"replay-{run}-{i % settings.ReplayKeys}", HttpStatusCode.OK)),
        };

        if (settings.Only is { } only)
        {
            var chosen = scenarios.Where(s => s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
            AnsiConsole.Write(LoadRunner.RoundsTable(await LoadRunner.RunRoundsAsync(chosen, settings.Rounds, settings.InFlight, duration / 3, duration, cancellationToken, () => epoch++)));
            return 0;
        }

        var rounds = await LoadRunner.RunRoundsAsync(scenarios, settings.Rounds, settings.InFlight, duration / 3, duration, cancellationToken, () => epoch++);
        var results = rounds.Select(r => r.Median).ToList();
        AnsiConsole.Write(LoadRunner.RoundsTable(rounds));

        // At 64 in flight on a saturated machine, p50 is mostly queueing (in flight ÷ rate); the latency the
        // gateway itself adds is measured one request at a time.
        var alone = await LoadRunner.RunRoundsAsync([scenarios[0], scenarios[2]], settings.Rounds, inFlight: 1, duration / 3, duration / 2, cancellationToken, () => epoch++);
        AnsiConsole.MarkupLine("one request at a time:");
        AnsiConsole.Write(LoadRunner.RoundsTable(alone));
        var (direct, plain, first, replay) = (results[0], results[1], results[2], results[3]);
        var addedP50 = alone[1].Median.P50Ms - alone[0].Median.P50Ms;
        AnsiConsole.MarkupLine($"replays: {replay.PerSecond / direct.PerSecond:0.00}× the direct upstream rate (target ≥ 3×)");
        AnsiConsole.MarkupLine($"first-time: {first.PerSecond / direct.PerSecond:0.00}× the direct upstream rate (target ≥ 0.5×); " +
                               $"added p50 {addedP50:+0.00;-0.00} ms one at a time (target < 3 ms), {first.P50Ms - direct.P50Ms:+0.00;-0.00} ms at {settings.InFlight} in flight");
        AnsiConsole.MarkupLine($"YARP alone: {plain.PerSecond / direct.PerSecond:0.00}× the direct rate, p50 {plain.P50Ms - direct.P50Ms:+0.00;-0.00} ms over direct");
        return results.Sum(r => r.Errors) == 0 ? 0 : 1;
    }

    private static async Task PostAsync(HttpClient http, string url, string key, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request);
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{url}: {(int)response.StatusCode}, expected {(int)expected}: {Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync())}");
        }
    }
}
