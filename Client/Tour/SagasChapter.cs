using System.Text.Json;
using Reliability.Client.Commands.Sagas;
using Reliability.Client.Infrastructure;
using Reliability.Sagas;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>Two orders as sagas: one goes through, one is declined at payment and undone in reverse.</summary>
public sealed class SagasChapter : ITourChapter
{
    public string Title => "Sagas: one order that completes, one that is undone";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        await SeedCommand.SeedAsync(context.Client);
        AnsiConsole.MarkupLine("Each order is a saga over four services, each with its own event table: create order → reserve stock → charge " +
                               "payment → confirm order. The orchestrator persists every attempt before and after it, so it can resume on another silo.");
        using var api = ApiClient.For(context.Target);
        foreach (var (caption, item) in new[] { ("Two books: everything succeeds.", "book-1"), ("A piano: 12,000, over the payment limit of 10,000.", "piano-1") })
        {
            AnsiConsole.MarkupLine($"\n[bold]POST /api/orders[/] — {caption}");
            var body = JsonSerializer.Serialize(new { customerId = "alice", items = new[] { new { sku = item, quantity = item == "book-1" ? 2 : 1 } } });
            var (sagaId, _) = await Commands.Sagas.Sagas.PostAsync(api, "/api/orders", body, $"tour-{context.RunId}-{item}", cancellationToken);
            var view = await Commands.Sagas.Sagas.WaitAsync(context.Client.GetGrain<ISagaGrain>(sagaId), TimeSpan.FromSeconds(30), cancellationToken);
            AnsiConsole.Write(SagaTimeline.Render(view));
        }

        AnsiConsole.MarkupLine("The declined payment is a business rejection, so it is not retried: the completed steps are undone in reverse " +
                               "(release the stock, cancel the order). A compensation undoes its action only if that action took effect, so undoing " +
                               "is safe even when a step's outcome is unknown. Try [bold]transfer alice bob 25[/], [bold]saga list[/], [bold]saga show <id>[/].");
    }
}
