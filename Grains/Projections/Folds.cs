using System.Collections.Immutable;
using Reliability.Services;
using Reliability.Services.Accounts;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Projections;

/// <summary>An order joined from its order, stock and payment events. Pure: the view after one more event.</summary>
public static class OrderSummaryFold
{
    public static OrderSummary Empty(string orderId) =>
        new(orderId, null, OrderStatus.None, [], 0, PaymentStatus.None, [], 0, DateTimeOffset.MinValue);

    public static OrderSummary Apply(OrderSummary view, object @event, ProjectedEvent meta)
    {
        var next = @event switch
        {
            OrderCreated created => created.Lines.IsDefaultOrEmpty
                ? throw new InvalidDataException($"OrderCreated at {meta.Store}:{meta.Position} has no lines.")
                : view with { CustomerId = created.CustomerId, Lines = created.Lines, Total = created.Lines.Sum(l => l.Amount), Status = Later(view.Status, OrderStatus.Pending) },
            OrderConfirmed => view with { Status = OrderStatus.Confirmed },
            OrderCancelled => view with { Status = OrderStatus.Cancelled },
            OrderVoided => view with { Status = Later(view.Status, OrderStatus.Voided) },
            StockReserved reserved => Reserve(view, meta, reserved.Quantity, ReservationState.Reserved),
            StockReleased released => Reserve(view, meta, released.Quantity, ReservationState.Released),
            ReservationRejected rejected => Reserve(view, meta, rejected.Quantity, ReservationState.Rejected),
            PaymentCharged => view with { Payment = PaymentStatus.Charged },
            PaymentDeclined => view with { Payment = PaymentStatus.Declined },
            PaymentRefunded => view with { Payment = PaymentStatus.Refunded },
            _ => view,
        };
        // The newest event's time, whatever order the three stores' events arrived in, so a rebuild gives the same view.
        return next with { Revision = view.Revision + 1, UpdatedAt = meta.RecordedAt > view.UpdatedAt ? meta.RecordedAt : view.UpdatedAt };
    }

    /// <summary>Events of different services may arrive in any order: a later status is never overwritten by Pending.</summary>
    private static OrderStatus Later(OrderStatus current, OrderStatus incoming) => current == OrderStatus.None ? incoming : current;

    private static OrderSummary Reserve(OrderSummary view, ProjectedEvent meta, int quantity, ReservationState state)
    {
        var sku = ProjectionEvents.EntityOf(meta.StreamId);
        return view with { Reservations = view.Reservations.RemoveAll(r => r.Sku == sku).Add(new ReservationView(sku, quantity, state)) };
    }
}

/// <summary>An account's balance and movements. Pure.</summary>
public static class StatementFold
{
    public const int KeptMovements = 50;

    public static AccountStatement Empty(string accountId) => new(accountId, false, 0, 0, []);

    public static AccountStatement Apply(AccountStatement view, object @event, ProjectedEvent meta) => @event switch
    {
        AccountOpened opened => Move(view with { Open = true }, meta, "opened", opened.InitialBalance, opened.InitialBalance, null),
        AccountDebited debited => Move(view, meta, "debit", -debited.Amount, view.Balance - debited.Amount, debited.Reference),
        AccountCredited credited => Move(view, meta, "credit", credited.Amount, view.Balance + credited.Amount, credited.Reference),
        DebitRefunded refunded => Move(view, meta, "refund", refunded.Amount, view.Balance + refunded.Amount, refunded.DebitCommandId),
        _ => view,
    };

    private static AccountStatement Move(AccountStatement view, ProjectedEvent meta, string kind, decimal amount, decimal balance, string? reference)
    {
        var movements = view.RecentMovements.Add(new Movement(meta.RecordedAt, kind, amount, balance, reference));
        return view with
        {
            Balance = balance,
            MovementCount = view.MovementCount + 1,
            RecentMovements = movements.Length > KeptMovements ? movements.RemoveAt(0) : movements,
        };
    }
}

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
