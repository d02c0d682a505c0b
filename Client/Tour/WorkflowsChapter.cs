using System.Text.Json;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Commands.Sagas;
using Reliability.Client.Infrastructure;
using Reliability.Client.Sagas;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>
/// Three services that are not ours (small HTTP processes the client starts) take part in a workflow that
/// is registered at run time: it completes (the last step calls back), it survives a participant that
/// answers 503 twice (applied once), and a rejection is compensated in reverse at the others.
/// </summary>
public sealed class WorkflowsChapter : ITourChapter
{
    public const string Workflow = "tour-order";

    public string Title => "Sagas for anyone: a workflow registered as data, its steps calling three HTTP services";

    /// <summary>reserve (undone by release) → charge (undone by refund) → ship: the pivot, which answers 202 and calls back.</summary>
    public static string Definition(string inventory, string payments, string shipping) => $$$"""
        {
          "name": "{{{Workflow}}}",
          "description": "reserve, charge, ship: three HTTP participants",
          "inputSchema": {
            "type": "object",
            "required": ["orderId", "amount"],
            "properties": {"orderId": {"type": "string", "minLength": 1}, "amount": {"type": "number", "exclusiveMinimum": 0}}
          },
          "steps": [
            {
              "name": "reserve",
              "action": {"url": "{{{inventory}}}/reservations", "body": {"order": "{{input.orderId}}"}},
              "compensation": {"url": "{{{inventory}}}/reservations/release", "body": {"order": "{{input.orderId}}"}}
            },
            {
              "name": "charge",
              "action": {"url": "{{{payments}}}/charges", "body": {"amount": "{{input.amount}}", "reservation": "{{steps.reserve.response.body.id}}"}},
              "compensation": {"url": "{{{payments}}}/refunds", "body": {"amount": "{{input.amount}}"}},
              "retry": {"maxAttempts": 5, "initialInterval": "100ms", "maxInterval": "1s"}
            },
            {
              "name": "ship",
              "pivot": true,
              "action": {"method": "PUT", "url": "{{{shipping}}}/shipments/{{input.orderId}}", "body": {"charge": "{{steps.charge.response.body.id}}"}},
              "completion": "callback",
              "timeout": "1m"
            }
          ]
        }
        """;

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine("Three services of another team, each a process of its own with its own store, honouring [bold]Idempotency-Key[/]:");
        await using var inventory = await ParticipantProcess.StartAsync("inventory", cancellationToken: cancellationToken);
        await using var payments = await ParticipantProcess.StartAsync("payments", cancellationToken: cancellationToken);
        await using var shipping = await ParticipantProcess.StartAsync("shipping", cancellationToken: cancellationToken);
        foreach (var participant in new[] { inventory, payments, shipping })
        {
            AnsiConsole.MarkupLine($"  {participant.Name} on {participant.Address}");
        }

        using var api = ApiClient.For(context.Target);
        var definition = Definition(inventory.Address, payments.Address, shipping.Address);
        AnsiConsole.MarkupLine("\nThe workflow is data, checked when it is registered (templates, compensations, the allow-list of hosts):");
        AnsiConsole.Write(new Panel(Markup.Escape(definition.Trim())).Header($"PUT /api/admin/workflows/{Workflow}"));
        var (status, registered) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/workflows/{Workflow}", definition, null, cancellationToken);
        AnsiConsole.MarkupLine($"  → {status}: version [bold]{registered.GetProperty("version").GetInt32()}[/]{(status == 201 ? "" : " (this document was registered before)")}; sagas started from now on run it, running ones keep theirs.");

        await ShowRefusedAsync(api, inventory.Address, cancellationToken);

        AnsiConsole.MarkupLine("\n[bold]1. Everything succeeds.[/] Shipping answers 202 and calls back a second later with the one-time token it was sent:");
        await shipping.FaultsAsync(new Dictionary<string, PathFaults> { ["/shipments/a-" + context.RunId] = new(Accept: "callback", CompleteAfterMs: 1000) }, cancellationToken);
        await StartAsync(api, $"a-{context.RunId}", cancellationToken);

        AnsiConsole.MarkupLine("\n[bold]2. Payments answers 503 twice.[/] The charge is retried with the same key, and applied once:");
        await payments.FaultsAsync(new Dictionary<string, PathFaults> { ["/charges"] = new(FailTimes: 2, FailStatus: 503) }, cancellationToken);
        var second = await StartAsync(api, $"b-{context.RunId}", cancellationToken);
        var charge = (await payments.EffectsAsync(cancellationToken)).Actions[$"{second}/charge/action"];
        AnsiConsole.MarkupLine($"  payments received [bold]{charge.Received}[/] requests with key {Markup.Escape(second)}/charge/action and applied it [bold]{(charge.Applied ? 1 : 0)}[/] time.");
        await payments.FaultsAsync(new Dictionary<string, PathFaults>(), cancellationToken);

        AnsiConsole.MarkupLine("\n[bold]3. Shipping refuses the order (422).[/] The steps before it are undone in reverse, each once:");
        await shipping.FaultsAsync(new Dictionary<string, PathFaults> { ["/shipments/c-" + context.RunId] = new(RejectStatus: 422) }, cancellationToken);
        var third = await StartAsync(api, $"c-{context.RunId}", cancellationToken);
        var reserve = (await inventory.EffectsAsync(cancellationToken)).Actions[$"{third}/reserve/action"];
        var refunded = (await payments.EffectsAsync(cancellationToken)).Actions[$"{third}/charge/action"];
        AnsiConsole.MarkupLine($"  inventory: reservation applied {reserve.Applied}, undone {reserve.Undone}; payments: charge applied {refunded.Applied}, refunded {refunded.Undone}.");
        AnsiConsole.MarkupLine("\n[grey]The same from the command line: workflow put FILE, workflow list, workflow start NAME --input JSON, saga show ID. The format is in docs/sagas.md.[/]");
    }

    /// <summary>A definition with two mistakes is refused with both, each at its path in the document.</summary>
    private static async Task ShowRefusedAsync(ApiClient api, string inventory, CancellationToken cancellationToken)
    {
        var broken = $$$"""
            {"steps": [
              {"name": "reserve", "action": {"url": "{{{inventory}}}/reservations", "body": {"order": "{{input.orderId}}"} } },
              {"name": "notify", "action": {"url": "https://example.com/hook"}}
            ]}
            """;
        using var response = await api.SendAsync(HttpMethod.Put, 0, "/api/admin/workflows/tour-broken", broken, null, cancellationToken);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        AnsiConsole.MarkupLine($"\nA definition with mistakes is refused whole, each at its place → {(int)response.StatusCode}:");
        foreach (var error in problem.GetProperty("errors").EnumerateArray())
        {
            AnsiConsole.MarkupLine($"  [red]{Markup.Escape(error.GetProperty("path").GetString()!)}[/]: {Markup.Escape(error.GetProperty("message").GetString()!)}");
        }
    }

    private static async Task<string> StartAsync(ApiClient api, string orderId, CancellationToken cancellationToken)
    {
        var (status, saga) = await OpenApi.SendAsync(api, HttpMethod.Post, $"/api/workflows/{Workflow}/sagas", JsonSerializer.Serialize(new { orderId, amount = 42.5 }), null, cancellationToken,
            headers: new Dictionary<string, string> { ["Idempotency-Key"] = $"tour-{orderId}", ["Prefer"] = "wait=20" });
        var view = saga.Deserialize<Reliability.Sagas.SagaView>(SagaJson.Options)!;
        AnsiConsole.MarkupLine($"  POST /api/workflows/{Workflow}/sagas → {status}");
        AnsiConsole.Write(SagaTimeline.Render(view));
        return view.SagaId;
    }
}
