using System.Text.Json;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Infrastructure;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>
/// Two services that are not ours (played by the client, over HTTP) publish events into stores of their
/// own; a JavaScript projection registered at run time joins them per customer; a broken new version is
/// held back while the working one keeps answering.
/// </summary>
public sealed class OpenProjectionsChapter : ITourChapter
{
    public const string Projection = "customers";

    public const string Script =
        """
        // One view per customer, joining the shop's orders and billing's payments.
        fromStores(['shop', 'billing'])
          .partitionBy(e => e.data.customerId)
          .when({
            $init: () => ({ orders: 0, ordered: 0, paid: 0, unpaid: [] }),
            OrderPlaced: (s, e) => {
              s.orders++;
              s.ordered += e.data.amount;
              s.unpaid.push(e.data.orderId);
              return s;
            },
            PaymentReceived: (s, e) => {
              s.paid += e.data.amount;
              s.unpaid = s.unpaid.filter(id => id !== e.data.orderId);
              return s;
            },
          });
        """;

    public string Title => "CQRS for anyone: other services append events over HTTP, a JavaScript view joins them";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(context.Target);
        var customer = $"cust-{context.RunId}";
        AnsiConsole.MarkupLine("A shop and a billing service, neither of them ours, each get an event store of their own " +
                               "(an admin call; each store is its own schema, or its own database with [bold]Database:Stores:<store>[/]):");
        foreach (var store in new[] { "shop", "billing" })
        {
            var (status, _) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/stores/{store}", null, null, cancellationToken);
            AnsiConsole.MarkupLine($"  PUT /api/admin/stores/{store} → {status}{(status == 200 ? " (made by an earlier run)" : "")}");
        }

        AnsiConsole.MarkupLine("\nThe view is a script, registered at run time and run in a sandbox (no host access; statements, time, memory and recursion limited per event):");
        AnsiConsole.Write(new Panel(Markup.Escape(Script.Trim())).Header("PUT /api/admin/projections/customers"));
        var (_, registered) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/projections/{Projection}", JsonSerializer.Serialize(new { script = Script }), null, cancellationToken);
        var good = registered.GetProperty("version").GetInt32();
        await ProjectionPutCommand.FollowAsync(api, Projection, good, null, cancellationToken);

        AnsiConsole.MarkupLine("\nThe services append over HTTP, each event with an id of their own, to any silo:");
        var tokens = new List<string>();
        async Task<JsonElement> AppendAsync(string store, string stream, string type, object data, Guid? id = null, int silo = 0)
        {
            var body = JsonSerializer.Serialize(new { expectedVersion = "any", events = new[] { new { id = id ?? Guid.NewGuid(), type, data } } });
            var (status, answer) = await OpenApi.SendAsync(api, HttpMethod.Post, $"/api/streams/{store}/{stream}", body, null, cancellationToken, silo);
            tokens.Add(answer.GetProperty("token").GetString()!);
            AnsiConsole.MarkupLine($"  POST /api/streams/{store}/{stream} {type} → {status}{(answer.GetProperty("replayed").GetBoolean() ? " [yellow]replayed: the same event id was appended before, nothing written[/]" : "")}, token {tokens[^1]}");
            return answer;
        }

        var retried = Guid.NewGuid();
        for (var i = 1; i <= 3; i++)
        {
            await AppendAsync("shop", $"order-{context.RunId}-{i}", "OrderPlaced", new { customerId = customer, orderId = $"o{i}", amount = 10 * i }, i == 3 ? retried : null, silo: i);
        }

        await AppendAsync("shop", $"order-{context.RunId}-3", "OrderPlaced", new { customerId = customer, orderId = "o3", amount = 30 }, retried, silo: 2);
        await AppendAsync("billing", $"payment-{context.RunId}-1", "PaymentReceived", new { customerId = customer, orderId = "o1", amount = 10 }, silo: 1);
        await AppendAsync("billing", $"payment-{context.RunId}-2", "PaymentReceived", new { customerId = customer, orderId = "o2", amount = 20 });

        var after = string.Join(",", tokens.Distinct().TakeLast(16));
        AnsiConsole.MarkupLine($"\n[bold]GET /api/views/customers/{customer}?after=…[/] — waits until the view has applied those appends:");
        var (_, view) = await OpenApi.SendAsync(api, HttpMethod.Get, $"/api/views/{Projection}/{customer}?after={Uri.EscapeDataString(after)}&wait=10", null, null, cancellationToken, silo: 1);
        AnsiConsole.Write(new Panel(Markup.Escape(OpenApi.Pretty(view.GetProperty("state")))).Header(customer));
        AnsiConsole.MarkupLine($"script version {view.GetProperty("version")}, {view.GetProperty("events")} events folded.");
        AnsiConsole.MarkupLine(view.GetProperty("stale").GetBoolean() ? "[yellow]stale[/]" : "[green]not stale[/]: three orders (the retried one counted once), two of them paid.");

        AnsiConsole.MarkupLine("\nA new version with a bug (it throws on payments) is built beside the live one. It parks the events it cannot fold, so it is [bold]held back[/]:");
        var broken = Script.Replace("s.paid += e.data.amount;", "s.paid += e.data.amount.value.cents;", StringComparison.Ordinal);
        var (_, putBroken) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/projections/{Projection}", JsonSerializer.Serialize(new { script = broken }), null, cancellationToken);
        await ProjectionPutCommand.FollowAsync(api, Projection, putBroken.GetProperty("version").GetInt32(), null, cancellationToken);
        var (_, still) = await OpenApi.SendAsync(api, HttpMethod.Get, $"/api/views/{Projection}/{customer}", null, null, cancellationToken);
        AnsiConsole.MarkupLine($"The view still answers from version {still.GetProperty("version")}: paid {still.GetProperty("state").GetProperty("paid")}.");

        AnsiConsole.MarkupLine("\nRegistering the fixed script again makes it the newest version; it is rebuilt and cut over:");
        var (_, fixedPut) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/projections/{Projection}", JsonSerializer.Serialize(new { script = Script }), null, cancellationToken);
        await ProjectionPutCommand.FollowAsync(api, Projection, fixedPut.GetProperty("version").GetInt32(), null, cancellationToken);
        AnsiConsole.MarkupLine("Try [bold]stream append shop order-9 --type OrderPlaced --data '{\"customerId\":\"c-9\",\"orderId\":\"o9\",\"amount\":5}'[/], " +
                               "[bold]view get customers c-9[/], [bold]projection status customers[/]; docs/projections.md has the contract and the script API.");
    }
}
