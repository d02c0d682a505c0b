using Reliability.Infrastructure;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Inventory;

/// <summary>The inventory service: stock per SKU, reserved for orders, never more than on hand.</summary>
public sealed class InventoryGrain : EventSourcedGrain<InventoryState>, IInventoryGrain
{
    public static readonly EventTypes EventTypes = new(typeof(StockAdded), typeof(StockReserved), typeof(ReservationRejected), typeof(StockReleased));

    protected override string StoreName => StoreNames.Inventory;

    protected override string StreamPrefix => "sku";

    protected override EventTypes Types => EventTypes;

    protected override InventoryState Initial => InventoryState.Empty;

    protected override InventoryState Apply(InventoryState state, object @event, string? commandId) => InventoryState.Apply(state, @event);

    public Task<CommandResult> Restock(string commandId, int quantity, decimal unitPrice) =>
        ExecuteAsync(commandId, _ => Decision.Emit(new StockAdded(quantity, unitPrice)));

    public Task<CommandResult> Reserve(string commandId, string reservationId, int quantity) => ExecuteAsync(commandId, state =>
        !state.Exists ? Decision.Refuse("sku-unknown", $"SKU {Sku} does not exist")
        : state.Reservations.ContainsKey(reservationId) ? Decision.NothingToDo
        : state.Available < quantity ? Decision.Emit(new ReservationRejected(reservationId, quantity, "insufficient-stock", $"{state.Available} of {Sku} available, {quantity} asked"))
        : Decision.Emit(new StockReserved(reservationId, quantity)));

    public Task<CommandResult> Release(string commandId, string reservationId) => ExecuteAsync(commandId, state =>
        state.Reservations.TryGetValue(reservationId, out var quantity) ? Decision.Emit(new StockReleased(reservationId, quantity)) : Decision.NothingToDo);

    public async Task<StockView> Get()
    {
        var state = await CurrentAsync();
        return new StockView(Sku, state.Exists, state.OnHand, state.Reserved, state.UnitPrice, Version);
    }

    private string Sku => this.GetPrimaryKeyString();
}
