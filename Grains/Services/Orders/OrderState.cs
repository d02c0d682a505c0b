using System.Collections.Immutable;

namespace Reliability.Services.Orders;

/// <summary>An order as the fold of its events.</summary>
public sealed record OrderState(OrderStatus Status, string? CustomerId, ImmutableArray<OrderLine> Lines, string? CancelReason)
{
    public static OrderState Empty { get; } = new(OrderStatus.None, null, [], null);

    public decimal Total => Lines.Sum(l => l.Amount);

    public static OrderState Apply(OrderState state, object @event) => @event switch
    {
        OrderCreated created => new OrderState(OrderStatus.Pending, created.CustomerId, created.Lines, null),
        OrderConfirmed => state with { Status = OrderStatus.Confirmed },
        OrderCancelled cancelled => state with { Status = OrderStatus.Cancelled, CancelReason = cancelled.Reason },
        OrderVoided voided => state.Status == OrderStatus.None ? state with { Status = OrderStatus.Voided, CancelReason = voided.Reason } : state,
        _ => state,
    };
}
