using Reliability.Services;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Projections.BuiltIn;

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
