using System.Runtime.InteropServices;
using Reliability.Client.Bench;
using Reliability.Client.Chaos;
using Reliability.Client.Partition;
using Reliability.Client.Commands;
using Reliability.Client.Commands.Gateway;
using Reliability.Client.Commands.Idempotency;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Commands.RateLimiting;
using Reliability.Client.Commands.Sagas;
using Reliability.Client.Gateway;
using Reliability.Client.Infrastructure;
using Reliability.Client.Sagas;
using Spectre.Console;
using Spectre.Console.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C asks every command to wind down cleanly (silos and PostgreSQL are stopped);
    // a second one ends the process at once.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};

// SIGTERM (kill, docker stop, systemd) winds down the same way as Ctrl-C.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});

// Tables written to a file or a pipe would otherwise wrap at 80 columns.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("client");
    config.AddCommand<UpCommand>("up")
        .WithDescription("Start PostgreSQL and a local cluster of silo processes, run the tour, keep it up until Ctrl-C.");
    config.AddCommand<TourCommand>("tour").WithDescription("A guided run of every capability against the running cluster.");
    config.AddBranch("cluster", cluster =>
    {
        cluster.SetDescription("The cluster itself.");
        cluster.AddCommand<ClusterStatusCommand>("status").WithDescription("Silos, their status, addresses and activation counts.");
    });
    config.AddBranch("ratelimit", ratelimit =>
    {
        ratelimit.SetDescription("Per-key rate limiting: policies, checks, bursts, counters.");
        ratelimit.AddBranch("policy", policy =>
        {
            policy.SetDescription("The policies every silo enforces.");
            policy.AddCommand<PolicySetCommand>("set").WithDescription("Create or change a policy.")
                .WithExample("ratelimit", "policy", "set", "api", "--algorithm", "token-bucket", "--limit", "100", "--rate", "10", "--period", "1s");
            policy.AddCommand<PolicyListCommand>("list").WithDescription("List the policies.");
            policy.AddCommand<PolicyRemoveCommand>("rm").WithDescription("Remove a policy.");
        });
        ratelimit.AddCommand<CheckCommand>("check").WithDescription("Ask once: may SUBJECT spend COST under these policies?")
            .WithExample("ratelimit", "check", "alice", "--policy", "api", "--cost", "1");
        ratelimit.AddCommand<BurstCommand>("burst").WithDescription("Fire a burst of checks at SUBJECT and show allowed/denied over time.")
            .WithExample("ratelimit", "burst", "alice", "--policy", "api", "--requests", "60", "--over", "3s");
        ratelimit.AddCommand<StatsCommand>("stats").WithDescription("Allowed, denied and shadow-denied decisions per policy.");
        ratelimit.AddBranch("rls", rls =>
        {
            rls.SetDescription("Envoy's rate-limit service (gRPC) that every silo serves.");
            rls.AddCommand<RlsCheckCommand>("check").WithDescription("One ShouldRateLimit call, as Envoy makes it; exit code 3 when OVER_LIMIT.")
                .WithExample("ratelimit", "rls", "check", "--domain", "demo", "--descriptor", "remote_address=10.0.0.1");
        });
    });
    config.AddBranch("idem", idem =>
    {
        idem.SetDescription("Idempotency keys: exactly-once POSTs.");
        idem.AddCommand<TryCommand>("try").WithDescription("Add an item to a cart over HTTP with an Idempotency-Key; repeat with the same key to see the replay.")
            .WithExample("idem", "try", "my-cart", "--key", "order-1", "--silo", "1");
        idem.AddCommand<ShowCommand>("show").WithDescription("The durable record of a key: status, lease, stored response.");
        idem.AddCommand<CartCommand>("cart").WithDescription("What a cart holds.");
    });
    config.AddCommand<SeedCommand>("seed").WithDescription("Demo accounts (alice, bob, carol, dave) and stock (book-1, lamp-1, piano-1).");
    config.AddBranch("order", order =>
    {
        order.SetDescription("Orders, placed as sagas.");
        order.AddCommand<PlaceOrderCommand>("place").WithDescription("Place an order (create → reserve stock → charge payment → confirm) and show its timeline.")
            .WithExample("order", "place", "--customer", "alice", "--item", "book-1:2", "--item", "lamp-1:1");
    });
    config.AddCommand<TransferCommand>("transfer").WithDescription("Move money between accounts (debit → record payment → credit) and show the timeline.")
        .WithExample("transfer", "alice", "bob", "25.50");
    config.AddBranch("workflow", workflow =>
    {
        workflow.SetDescription("Workflows as data: register definitions whose steps call HTTP participants, list them, start sagas of them.");
        workflow.AddCommand<WorkflowPutCommand>("put").WithDescription("Register a definition (JSON or YAML); a changed one becomes the next version.")
            .WithExample("workflow", "put", "docs/examples/order-workflow.yaml");
        workflow.AddCommand<WorkflowListCommand>("list").WithDescription("The built-in and registered workflows, with their versions.");
        workflow.AddCommand<WorkflowStartCommand>("start").WithDescription("Start a saga of the latest version (behind an Idempotency-Key) and draw its timeline.")
            .WithExample("workflow", "start", "order", "--input", "{\"orderId\":\"42\",\"amount\":25.5,\"address\":{\"city\":\"Oslo\"}}");
    });
    config.AddBranch("saga", saga =>
    {
        saga.SetDescription("Operate sagas.");
        saga.AddCommand<SagaListCommand>("list").WithDescription("Sagas by status, with counts.");
        saga.AddCommand<SagaShowCommand>("show").WithDescription("One saga's timeline: every attempt, compensation and silo.");
        saga.AddCommand<SagaRetryCommand>("retry").WithDescription("Resume a parked (Failed) saga's compensations.");
        saga.AddCommand<SagaCancelCommand>("cancel").WithDescription("Stop a running saga; it compensates what it did.");
    });
    config.AddBranch("view", view =>
    {
        view.SetDescription("Read models built from the services' events (CQRS).");
        view.AddCommand<ViewCustomerOrdersCommand>("orders").WithDescription("A customer's orders with their payment and stock state.")
            .WithExample("view", "orders", "alice");
        view.AddCommand<ViewOrderCommand>("order").WithDescription("One order joined across the order, inventory and payment services.");
        view.AddCommand<ViewStatementCommand>("statement").WithDescription("An account's balance and movements.")
            .WithExample("view", "statement", "alice", "--after", "accounts:42");
        view.AddCommand<ViewTotalsCommand>("totals").WithDescription("Orders by status, revenue, stock reserved.");
        view.AddCommand<ViewGetCommand>("get").WithDescription("A view of a JavaScript projection by its key (over HTTP), or a list of its views.")
            .WithExample("view", "get", "customers", "c-7", "--after", "shop:12");
    });
    config.AddBranch("store", store =>
    {
        store.SetDescription("Open event stores: other services append their own events to them over HTTP.");
        store.AddCommand<StoreCreateCommand>("create").WithDescription("Make a store (its own event table, in its own schema or database).")
            .WithExample("store", "create", "shop");
        store.AddCommand<StoreListCommand>("list").WithDescription("The open stores.");
    });
    config.AddBranch("stream", stream =>
    {
        stream.SetDescription("Append to and read streams of open stores over HTTP, as another service would.");
        stream.AddCommand<StreamAppendCommand>("append").WithDescription("Append events (each with a client id, so a retry is applied once), optionally at an expected version.")
            .WithExample("stream", "append", "shop", "order-1", "--type", "OrderPlaced", "--data", "{\"customerId\":\"c-7\",\"amount\":30}");
        stream.AddCommand<StreamReadCommand>("read").WithDescription("A stream's events, in order.");
    });
    config.AddBranch("projection", projection =>
    {
        projection.SetDescription("Operate the projections that build the views.");
        projection.AddCommand<ProjectionStatusCommand>("status").WithDescription("Checkpoints, events and seconds behind, lag, parked events, runner silo.");
        projection.AddCommand<ProjectionRebuildCommand>("rebuild").WithDescription("Replay every event into a new generation, with progress; queries use the old one until it is done.")
            .WithExample("projection", "rebuild", "orders");
        projection.AddCommand<ProjectionParkedCommand>("parked").WithDescription("Events a view could not apply, with the error.");
        projection.AddCommand<ProjectionReplayCommand>("replay").WithDescription("Apply the parked events again (after a fix).");
        projection.AddCommand<ProjectionPutCommand>("put").WithDescription("Register a JavaScript projection, or a new version of one (built beside the live one, cut over when it parks nothing).")
            .WithExample("projection", "put", "customers", "--stores", "shop,billing", "--script", "@customers.js");
    });
    config.AddCommand<AccountCommand>("account").WithDescription("An account's balance.");
    config.AddCommand<StockCommand>("stock").WithDescription("A SKU's stock: on hand, reserved, available.");
    config.AddBranch("gateway", gateway =>
    {
        gateway.SetDescription("The idempotency gateway in front of other services' HTTP APIs.");
        gateway.AddCommand<GatewayRoutesCommand>("routes").WithDescription("The gateway routes every silo serves: matches, upstreams, keyed methods.");
        gateway.AddCommand<GatewayTryCommand>("try").WithDescription("POST the same request with one key twice at once through two silos, then once more; show what the upstream applied.")
            .WithExample("gateway", "try", "/demo/orders");
    });
    config.AddCommand<ParticipantCommand>("participant").WithDescription("A demo saga participant over HTTP: applies each call once per Idempotency-Key, undoes it on its compensation, with injected faults.");
    config.AddCommand<UpstreamCommand>("upstream").WithDescription("A demo HTTP service to put behind the gateway: counts the effects it applied per Idempotency-Key.");
    config.AddCommand<MetricsCommand>("metrics").WithDescription("What Prometheus scrapes from the silos' /metrics, summed across silos.")
        .WithExample("metrics", "--match", "saga");
    config.AddCommand<PartitionCommand>("partition").WithDescription("Silos and PostgreSQL on network hosts of their own, cut apart under load; invariants checked, availability, over-admission and duplicate activations measured.")
        .WithExample("partition", "--faults", "isolate", "--cut-for", "20s");
    config.AddCommand<ChaosCommand>("chaos").WithDescription("Kill silos and restart PostgreSQL under a mixed load, then check every invariant (exit 1 if one fails).")
        .WithExample("chaos", "--duration", "60s");
    config.AddBranch("bench", bench =>
    {
        bench.SetDescription("Benchmarks; results and how to read them: docs/benchmarks.md.");
        bench.AddCommand<BenchRateLimitCommand>("ratelimit").WithDescription("Decisions/s and latency vs an empty grain and a Redis Lua token bucket; memory per bucket.");
        bench.AddCommand<BenchIdempotencyCommand>("idempotency").WithDescription("First-time claims and replays vs the same done directly in PostgreSQL.");
        bench.AddCommand<BenchRlsCommand>("rls").WithDescription("Envoy's ShouldRateLimit over gRPC vs the Orleans-client check and a Redis Lua token bucket.");
        bench.AddCommand<BenchGatewayCommand>("gateway").WithDescription("Keyed POSTs through the gateway vs straight to an upstream that writes to PostgreSQL, and vs YARP alone.");
        bench.AddCommand<BenchTelemetryCommand>("telemetry").WithDescription("What OpenTelemetry costs: the check and the transfer saga with telemetry off and on (10% sampling, OTLP export, scrapes).");
        bench.AddCommand<BenchSagaCommand>("saga").WithDescription("Transfer sagas per second and their latency, on a durable PostgreSQL.");
        bench.AddCommand<BenchProjectionsCommand>("projections").WithDescription("View lag under the saga load; catch-up and rebuild speed over 200,000 events.");
        bench.AddCommand<BenchSnapshotCommand>("snapshot").WithDescription("First call to an account with 100,000 events after deactivation, with and without its snapshot.");
        bench.AddCommand<BenchClusterCommand>("cluster").WithDescription("Silo cold start, cluster formation, and recovery after kill -9.");
    });
    config.SetExceptionHandler((exception, _) =>
    {
        switch (exception)
        {
            case CommandException or CommandAppException:
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(exception.Message)}");
                return 2;
            case OperationCanceledException:
                return 130;
            default:
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(exception.GetType().Name)}: {Markup.Escape(exception.Message)}");
                return 1;
        }
    });
});

return await app.RunAsync(args, cancellation.Token);
