using System.Collections.Immutable;
using Reliability.Services;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Projections.BuiltIn;

/// <summary>Shop-wide totals. Pure; only order payments count as revenue (transfers are not sales).</summary>
public static class TotalsFold
{
    public static ShopTotals Empty { get; } = new(ImmutableDictionary<OrderStatus, long>.Empty, 0, 0, 0);

    public static ShopTotals Apply(ShopTotals view, object @event, ProjectedEvent meta)
    {
        var next = @event switch
        {
            OrderCreated => Count(view, OrderStatus.Pending, +1),
            OrderConfirmed => Count(Count(view, OrderStatus.Pending, -1), OrderStatus.Confirmed, +1),
            OrderCancelled => Count(Count(view, OrderStatus.Pending, -1), OrderStatus.Cancelled, +1),
            PaymentCharged charged when ProjectionEvents.IsOrderPayment(meta) => view with { Revenue = view.Revenue + charged.Amount },
            PaymentRefunded refunded when ProjectionEvents.IsOrderPayment(meta) => view with { Revenue = view.Revenue - refunded.Amount },
            StockReserved reserved => view with { StockReserved = view.StockReserved + reserved.Quantity },
            StockReleased released => view with { StockReserved = view.StockReserved - released.Quantity },
            _ => view,
        };
        return next with { EventsApplied = view.EventsApplied + 1 };
    }

    private static ShopTotals Count(ShopTotals view, OrderStatus status, long delta) =>
        view with { OrdersByStatus = view.OrdersByStatus.SetItem(status, view.OrdersByStatus.GetValueOrDefault(status) + delta) };
}
