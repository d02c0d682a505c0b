using System.Collections.Immutable;
using System.Text.Json;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Commands.Sagas;
using Reliability.Client.Infrastructure;
using Reliability.Projections;
using Reliability.Sagas;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>Orders change the services' state; the views follow within milliseconds; one view is rebuilt from the events.</summary>
public sealed class ProjectionsChapter : ITourChapter
{
    public string Title => "CQRS: views built from the services' events, read-your-writes, a rebuild";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        await SeedCommand.SeedAsync(context.Client);
        var customer = $"tour-{context.RunId}";
        AnsiConsole.MarkupLine("The order, inventory and payment services each keep only their own events. A projection runner per view family " +
                               "(one activation in the cluster) reads those event tables and folds them into view grains: a customer's orders, " +
                               "an order summary, account statements, shop totals. Appends nudge the runner, so views follow in milliseconds.");
        var totalsBefore = (await context.Client.ReadTotalsAsync([], TimeSpan.Zero)).View!;

        using var api = ApiClient.For(context.Target);
        var tokens = ImmutableArray<ConsistencyToken>.Empty;
        foreach (var (sku, quantity) in new[] { ("book-1", 1), ("lamp-1", 2), ("piano-1", 1) })
        {
            var body = JsonSerializer.Serialize(new { customerId = customer, items = new[] { new { sku, quantity } } });
            var (sagaId, _) = await Commands.Sagas.Sagas.PostAsync(api, "/api/orders", body, $"views-{context.RunId}-{sku}", cancellationToken);
            var saga = await Commands.Sagas.Sagas.WaitAsync(context.Client.GetGrain<ISagaGrain>(sagaId), TimeSpan.FromSeconds(30), cancellationToken);
            tokens = [.. saga.Consistency.Select(t => ConsistencyToken.TryParse(t, out var token) ? token! : throw new CommandException($"Bad token {t}"))];
            AnsiConsole.MarkupLine($"POST /api/orders {sku} × {quantity}: saga {saga.Status.ToString().ToLowerInvariant()}, tokens [bold]{string.Join(",", saga.Consistency)}[/]");
        }

        var after = string.Join(",", tokens);
        AnsiConsole.MarkupLine($"\n[bold]GET /api/customers/{customer}/orders?after={after}[/] — waits until the view has applied those events:");
        var orders = await context.Client.ReadCustomerOrdersAsync(customer, tokens, TimeSpan.FromSeconds(5));
        AnsiConsole.Write(ViewRender.CustomerOrders(orders.View!));
        AnsiConsole.MarkupLine(orders.Stale ? ViewRender.Flags(orders) : "[green]not stale[/]: the answer includes the last order's events.");

        var totals = (await context.Client.ReadTotalsAsync(tokens, TimeSpan.FromSeconds(5))).View!;
        AnsiConsole.MarkupLine($"\nShop totals moved by this chapter: revenue +{ViewRender.Money(totals.Revenue - totalsBefore.Revenue)}, " +
                               $"events applied +{totals.EventsApplied - totalsBefore.EventsApplied}.");
        AnsiConsole.Write(ViewRender.Status(await Task.WhenAll(ProjectionNames.All.Select(p => context.Client.GetGrain<IProjectionRunnerGrain>(p).GetStatus()))));

        AnsiConsole.MarkupLine("\nAfter a bug fix in a fold, a view is rebuilt: every event is replayed into a new generation beside the live one; " +
                               "queries keep answering from the live one until the new one has caught up, then switch at once.");
        await ProjectionRebuildCommand.RebuildAsync(context.Client, ProjectionNames.Orders, cancellationToken);
        var rebuilt = await context.Client.ReadCustomerOrdersAsync(customer, [], TimeSpan.Zero);
        var same = JsonSerializer.Serialize(rebuilt.View) == JsonSerializer.Serialize(orders.View);
        AnsiConsole.MarkupLine(same
            ? $"[green]The rebuilt view of {customer} is identical[/] to the one built live."
            : $"[yellow]The rebuilt view of {customer} differs from the live one[/] (were more events appended meanwhile?).");
        AnsiConsole.MarkupLine("Try [bold]view orders alice[/], [bold]view statement alice[/], [bold]view totals[/], [bold]projection status[/], " +
                               "[bold]projection rebuild[/].");
    }
}
