using System.Globalization;
using Reliability.Projections;
using Reliability.Services;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Reliability.Client.Commands.Projections;

/// <summary>Draws the views and the projections' status as tables.</summary>
public static class ViewRender
{
    public static string Flags<T>(ViewRead<T> read) =>
        (read.Stale ? "[yellow]stale: the view has not applied the given tokens yet[/] " : "") +
        (read.Rebuilding ? "[blue]a rebuild is in progress; this is the previous, complete generation[/]" : "");

    public static IRenderable CustomerOrders(CustomerOrders view)
    {
        var table = new Table().Title($"orders of customer [bold]{Markup.Escape(view.CustomerId)}[/] ({view.Orders.Length})")
            .AddColumns("order", "status", "payment", "total", "items", "stock", "updated (UTC)");
        foreach (var order in view.Orders)
        {
            table.AddRow(Markup.Escape(order.OrderId), Status(order.Status), Payment(order.Payment), Money(order.Total),
                Markup.Escape(string.Join(", ", order.Lines.Select(l => $"{l.Sku} × {l.Quantity}"))),
                Markup.Escape(string.Join(", ", order.Reservations.Select(r => $"{r.Sku}: {r.State.ToString().ToLowerInvariant()}"))),
                order.UpdatedAt.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
        }

        return table;
    }

    public static IRenderable OrderSummary(OrderSummary order) => CustomerOrders(new CustomerOrders(order.CustomerId ?? "?", [order]));

    public static IRenderable Statement(AccountStatement statement)
    {
        var table = new Table().Title($"account [bold]{Markup.Escape(statement.AccountId)}[/]: balance {Money(statement.Balance)}, {statement.MovementCount} movements" +
                                      (statement.MovementCount > statement.RecentMovements.Length ? $" (newest {statement.RecentMovements.Length} shown)" : ""))
            .AddColumns("at (UTC)", "movement", "amount", "balance after", "reference");
        foreach (var movement in statement.RecentMovements)
        {
            table.AddRow(movement.At.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture), movement.Kind, Money(movement.Amount), Money(movement.BalanceAfter),
                Markup.Escape(movement.Reference ?? ""));
        }

        return table;
    }

    public static IRenderable Totals(ShopTotals totals)
    {
        var table = new Table().Title("shop totals").AddColumns("measure", "value");
        foreach (var status in new[] { OrderStatus.Pending, OrderStatus.Confirmed, OrderStatus.Cancelled })
        {
            table.AddRow($"orders {status.ToString().ToLowerInvariant()}", totals.OrdersByStatus.GetValueOrDefault(status).ToString("N0", CultureInfo.InvariantCulture));
        }

        table.AddRow("revenue", Money(totals.Revenue));
        table.AddRow("stock reserved (units)", totals.StockReserved.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("events applied", totals.EventsApplied.ToString("N0", CultureInfo.InvariantCulture));
        return table;
    }

    public static IRenderable Status(IEnumerable<ProjectionStatus> statuses)
    {
        var table = new Table().Title("projections").AddColumns("projection", "generation", "source", "checkpoint", "behind", "seconds behind", "lag p50/p99 (30 s)", "parked", "runner", "last error");
        foreach (var status in statuses)
        {
            // A JavaScript projection also names each generation's script version.
            static string Version(int? version) => version is { } v ? $" v{v}" : "";
            var generation = status.RebuildingGeneration is { } rebuilding
                ? $"{status.LiveGeneration}{Version(status.LiveVersion)} [blue](rebuilding {rebuilding}{Version(status.RebuildVersion)})[/]"
                : $"{status.LiveGeneration}{Version(status.LiveVersion)}";
            var lastError = status.Held is { } held ? $"[yellow]{Markup.Escape(held)}[/]" : Markup.Escape(status.LastError ?? "");
            var first = true;
            foreach (var source in status.Sources)
            {
                table.AddRow(
                    first ? $"[bold]{status.Name}[/]" : "",
                    first ? generation : "",
                    source.Store,
                    source.CheckpointPosition.ToString("N0", CultureInfo.InvariantCulture),
                    source.EventsBehind == 0 ? "[green]0[/]" : $"[yellow]{source.EventsBehind:N0}[/]",
                    source.SecondsBehind.ToString("0.0", CultureInfo.InvariantCulture),
                    first ? $"{status.Lag.P50Ms:0.#} / {status.Lag.P99Ms:0.#} ms ({status.Lag.Samples:N0})" : "",
                    first ? (status.Parked == 0 ? "0" : $"[red]{status.Parked}[/]") : "",
                    first ? Markup.Escape(status.Silo) : "",
                    first ? lastError : "");
                first = false;
            }
        }

        return table;
    }

    public static string Money(decimal amount) => amount.ToString("N2", CultureInfo.InvariantCulture);

    private static string Status(OrderStatus status) => status switch
    {
        OrderStatus.Confirmed => "[green]confirmed[/]",
        OrderStatus.Cancelled => "[yellow]cancelled[/]",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static string Payment(PaymentStatus status) => status switch
    {
        PaymentStatus.Charged => "[green]charged[/]",
        PaymentStatus.Declined => "[red]declined[/]",
        PaymentStatus.Refunded => "[yellow]refunded[/]",
        _ => "none",
    };
}
