using System.Collections.Immutable;
using Reliability.Infrastructure;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Orders;

/// <summary>The order service: an order is created pending, then confirmed or cancelled.</summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class OrderGrain : EventSourcedGrain<OrderState>, IOrderGrain
{
    public static readonly EventTypes EventTypes = new(typeof(OrderCreated), typeof(OrderConfirmed), typeof(OrderCancelled), typeof(OrderVoided));

    protected override string StoreName => StoreNames.Orders;

    protected override string StreamPrefix => "order";

    protected override EventTypes Types => EventTypes;

    protected override OrderState Initial => OrderState.Empty;

    protected override OrderState Apply(OrderState state, object @event, EventMeta meta) => OrderState.Apply(state, @event);

    public Task<CommandResult> Create(string commandId, string customerId, ImmutableArray<OrderLine> lines) => ExecuteAsync(commandId, state =>
        state.Status == OrderStatus.Voided ? Decision.Refuse("cancelled", $"order {Id} was cancelled before it was created")
        : state.Status != OrderStatus.None ? Decision.Refuse("already-exists", $"order {Id} already exists")
        : Decision.Emit(new OrderCreated(customerId, lines)));

    public Task<CommandResult> Confirm(string commandId) => ExecuteAsync(commandId, state => state.Status switch
    {
        OrderStatus.Pending => Decision.Emit(new OrderConfirmed()),
        OrderStatus.Confirmed => Decision.NothingToDo,
        OrderStatus.None => Decision.Refuse("order-unknown", $"order {Id} does not exist"),
        _ => Decision.Refuse("order-cancelled", $"order {Id} was cancelled"),
    });

    public Task<CommandResult> Cancel(string commandId, string reason) => ExecuteAsync(commandId, state => state.Status switch
    {
        OrderStatus.Pending => Decision.Emit(new OrderCancelled(reason)),
        OrderStatus.Confirmed => Decision.Refuse("order-confirmed", $"order {Id} is already confirmed"),
        OrderStatus.None => Decision.Emit(new OrderVoided(reason)),
        _ => Decision.NothingToDo,
    });

    public async Task<OrderView> Get()
    {
        var state = await CurrentAsync();
        return new OrderView(Id, state.Status, state.CustomerId, state.Lines, state.Total, state.CancelReason, Version);
    }

    private string Id => this.GetPrimaryKeyString();
}
