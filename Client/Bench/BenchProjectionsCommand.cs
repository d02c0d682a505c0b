using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Infrastructure;
using Reliability.Infrastructure;
using Reliability.Projections;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench projections</c>: (1) the lag from append to applied-in-the-view of every projection while the
/// saga benchmark's load runs (transfers at a fixed number in flight), as measured by the runners over
/// the last 30 s; (2) how fast a projection catches up with, and then rebuilds from, a backlog of at
/// least 200,000 order events (created, reserved, charged, confirmed) written straight into the
/// services' event tables.
/// </summary>
public sealed class BenchProjectionsCommand : AsyncCommand<BenchProjectionsCommand.Settings>
{
    private const int OrdersPerChunk = 5_000;
    private const int EventsPerOrder = 4;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--silos <N>")]
        [DefaultValue(1)]
        public int Silos { get; init; } = 1;

        [CommandOption("--in-flight <N>")]
        [DefaultValue(64)]
        public int InFlight { get; init; } = 64;

        [CommandOption("--duration <DURATION>")]
        [Description("How long the saga load runs while the lag is measured (the runners report the last 30 s).")]
        [DefaultValue("30s")]
        public string Duration { get; init; } = "30s";

        [CommandOption("--events <N>")]
        [Description("Order events to write for the catch-up and rebuild measurements (default 200,000).")]
        [DefaultValue(200_000)]
        public int Events { get; init; } = 200_000;

        [CommandOption("--js")]
        [Description("Also the orders view as a JavaScript projection: its lag, its rebuild against the C# one (as a ratio), and ingestion over HTTP.")]
        public bool Js { get; init; }

        [CommandOption("--ingest-duration <DURATION>")]
        [Description("With --js: how long each ingestion run lasts.")]
        [DefaultValue("10s")]
        public string IngestDuration { get; init; } = "10s";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!Durations.TryParse(settings.Duration, out var duration) || duration < TimeSpan.FromSeconds(5))
        {
            throw new CommandException($"--duration must be at least 5s (got '{settings.Duration}').");
        }

        if (!Durations.TryParse(settings.IngestDuration, out var ingestDuration) || ingestDuration < TimeSpan.FromSeconds(1))
        {
            throw new CommandException($"--ingest-duration must be at least 1s (got '{settings.IngestDuration}').");
        }

        if (settings.Events is < 1_000 or > 10_000_000)
        {
            throw new CommandException($"--events must be 1,000 to 10,000,000 (got {settings.Events}).");
        }

        AnsiConsole.MarkupLine($"[bold]bench projections[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s); lag under {settings.InFlight} transfers in flight for {Durations.Format(duration)}; " +
                               $"catch-up and rebuild over {settings.Events:N0} order events");
        await using var bench = await BenchCluster.CreateAsync("projections", cancellationToken);
        await bench.StartSilosAsync(settings.Silos, cancellationToken);
        await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
        var client = connection.Client;
        using var api = ApiClient.For(bench.Target);
        string[] projections = settings.Js ? [.. ProjectionNames.All, JsProjectionBench.Name] : [.. ProjectionNames.All];
        if (settings.Js)
        {
            await JsProjectionBench.RegisterAsync(api, cancellationToken);
        }

        var load = await TransferLoad.RunAsync(client, await TransferLoad.OpenAccountsAsync(client, 1_000), settings.InFlight, TimeSpan.FromSeconds(5), duration, cancellationToken);
        var lag = await Task.WhenAll(projections.Select(p => client.GetGrain<IProjectionRunnerGrain>(p).GetStatus()));
        var lagTable = new Table().Title($"lag while {load.PerSecond:N0} transfers/s ran (append → applied in the view, last {lag[0].Lag.WindowSeconds} s)")
            .AddColumns("projection", "events", "p50 ms", "p99 ms", "max ms");
        foreach (var status in lag)
        {
            lagTable.AddRow(status.Name, status.Lag.Samples.ToString("N0", CultureInfo.InvariantCulture), Ms(status.Lag.P50Ms), Ms(status.Lag.P99Ms), Ms(status.Lag.MaxMs));
        }

        AnsiConsole.Write(lagTable);

        var orders = (settings.Events + EventsPerOrder - 1) / EventsPerOrder;
        var written = await SeedAsync(bench.ConnectionString, orders, cancellationToken);
        var catchUp = await CatchUpAsync(client, written, cancellationToken);
        if (settings.Js)
        {
            await JsProjectionBench.CaughtUpAsync(client, cancellationToken);
        }

        var rebuilds = new Table().Title("rebuild: every event replayed into a new generation, until it is live")
            .AddColumns("projection", "events", "seconds", "events/s");
        var rates = new Dictionary<string, double>();
        string[] rebuilt = settings.Js
            ? [ProjectionNames.Orders, JsProjectionBench.Name, ProjectionNames.Totals, ProjectionNames.Statements]
            : [ProjectionNames.Orders, ProjectionNames.Totals, ProjectionNames.Statements];
        foreach (var projection in rebuilt)
        {
            var events = await SourceEventsAsync(bench.ConnectionString, projection, cancellationToken);
            var clock = Stopwatch.StartNew();
            await Commands.Projections.ProjectionRebuildCommand.RebuildAsync(client, projection, cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            rates[projection] = events / seconds;
            rebuilds.AddRow(projection, events.ToString("N0", CultureInfo.InvariantCulture), seconds.ToString("0.0", CultureInfo.InvariantCulture),
                (events / seconds).ToString("N0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.MarkupLine($"live catch-up of the {written:N0} written events (orders and totals projections, side by side): " +
                               $"{catchUp.TotalSeconds:0.0} s, {written / catchUp.TotalSeconds:N0} events/s per projection");
        AnsiConsole.Write(rebuilds);
        AnsiConsole.MarkupLine("Targets: lag p99 under 100 ms under the saga load; rebuild at least 20,000 events/s.");
        if (settings.Js)
        {
            AnsiConsole.MarkupLine($"JavaScript orders rebuild against the C# one in this run: [bold]{rates[JsProjectionBench.Name] / rates[ProjectionNames.Orders]:0.00}×[/] " +
                                   "(targets: at least 20,000 events/s and 0.5×).");
            await OpenApi.SendAsync(api, HttpMethod.Put, "/api/admin/stores/bench_ingest", null, null, cancellationToken);
            // The API's own per-caller limit (http-api: 100/s) would measure itself; a service feeding us at this
            // rate would have it raised the same way.
            await OpenApi.SendAsync(api, HttpMethod.Put, "/api/admin/ratelimit/policies/http-api",
                """{"algorithm":"token-bucket","limit":1000000,"period":"1s","rate":1000000}""", null, cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken); // the silos' policy caches pick the change up within a second
            var ingest = new List<(int, (double, double, double, string))>();
            foreach (var perAppend in new[] { 1, 10 })
            {
                AnsiConsole.MarkupLine($"ingesting for {Durations.Format(ingestDuration)} at {settings.InFlight} in flight, {perAppend} event(s) per append…");
                ingest.Add((perAppend, await JsProjectionBench.IngestAsync(api, "bench_ingest", settings.InFlight, perAppend, ingestDuration, cancellationToken)));
            }

            AnsiConsole.Write(JsProjectionBench.IngestTable(ingest, settings.InFlight));
            AnsiConsole.MarkupLine("Target: at least 5,000 events/s over HTTP at 64 in flight on durable PostgreSQL.");
        }

        return 0;
    }

    private static string Ms(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes <paramref name="orders"/> orders' events straight into the order, inventory and payment
    /// tables, 5,000 orders per transaction: created and confirmed, one reservation on one of 100 SKUs,
    /// one charge. Returns how many events it wrote.
    /// </summary>
    private static async Task<long> SeedAsync(string connectionString, int orders, CancellationToken cancellationToken)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        long written = 0;
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn()).StartAsync(async progress =>
        {
            var task = progress.AddTask($"writing {orders * (long)EventsPerOrder:N0} order events", maxValue: orders);
            for (var first = 0; first < orders; first += OrdersPerChunk)
            {
                var last = Math.Min(orders, first + OrdersPerChunk) - 1;
                written += await ExecuteAsync(connectionString, StoreNames.Orders,
                    """
                    INSERT INTO events (stream_id, version, event_type, payload)
                    SELECT 'order-' || $1 || '-' || i, e.version, e.type,
                           CASE e.version WHEN 1 THEN jsonb_build_object('customerId', 'bench-c' || (i % 5000),
                               'lines', jsonb_build_array(jsonb_build_object('sku', 'bench-' || $1 || '-' || (i % 100), 'quantity', 1 + i % 3, 'unitPrice', 5)))
                           ELSE '{}'::jsonb END
                      FROM generate_series($2, $3) AS i
                     CROSS JOIN (VALUES (1, 'OrderCreated'), (2, 'OrderConfirmed')) AS e(version, type)
                     ORDER BY i, e.version
                    """, run, first, last, cancellationToken);
                written += await ExecuteAsync(connectionString, StoreNames.Inventory,
                    """
                    INSERT INTO events (stream_id, version, event_type, payload)
                    SELECT 'sku-bench-' || $1 || '-' || (i % 100), i / 100 + 1, 'StockReserved',
                           jsonb_build_object('reservationId', $1 || '-' || i || ':bench-' || $1 || '-' || (i % 100), 'quantity', 1 + i % 3)
                      FROM generate_series($2, $3) AS i
                     ORDER BY i
                    """, run, first, last, cancellationToken);
                written += await ExecuteAsync(connectionString, StoreNames.Payments,
                    """
                    INSERT INTO events (stream_id, version, event_type, payload)
                    SELECT 'payment-order-' || $1 || '-' || i, 1, 'PaymentCharged',
                           jsonb_build_object('payer', 'bench-c' || (i % 5000), 'payee', 'shop', 'amount', 5 * (1 + i % 3), 'reference', $1 || '-' || i)
                      FROM generate_series($2, $3) AS i
                     ORDER BY i
                    """, run, first, last, cancellationToken);
                task.Value = last + 1;
            }
        });
        return written;
    }

    private static async Task<long> ExecuteAsync(string connectionString, string store, string sql, string run, int first, int last, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = store }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(run);
        command.Parameters.AddWithValue(first);
        command.Parameters.AddWithValue(last);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Waits until the orders and totals projections have applied everything, drawing the larger backlog.</summary>
    private static async Task<TimeSpan> CatchUpAsync(IClusterClient client, long written, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).StartAsync(async progress =>
        {
            var task = progress.AddTask("live projections catching up", maxValue: written);
            while (true)
            {
                var statuses = await Task.WhenAll(new[] { ProjectionNames.Orders, ProjectionNames.Totals }.Select(p => client.GetGrain<IProjectionRunnerGrain>(p).GetStatus()));
                var behind = statuses.Max(s => s.Sources.Sum(x => x.EventsBehind));
                task.Value = Math.Max(0, written - behind);
                if (behind == 0)
                {
                    return;
                }

                await Task.Delay(250, cancellationToken);
            }
        });
        return clock.Elapsed;
    }

    private static async Task<long> SourceEventsAsync(string connectionString, string projection, CancellationToken cancellationToken)
    {
        string[] stores = projection == ProjectionNames.Statements ? [StoreNames.Accounts] : [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments];
        long total = 0;
        foreach (var store in stores)
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = store }.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT count(*) FROM events", connection);
            total += (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        return total;
    }
}
