using Reliability.Infrastructure;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Inventory;

/// <summary>The inventory service: stock per SKU, reserved for orders, never more than on hand.</summary>
public sealed class InventoryGrain : EventSourcedGrain<InventoryState>, IInventoryGrain
{
    public static readonly EventTypes EventTypes = new(typeof(StockAdded), typeof(StockReserved), typeof(ReservationRejected), typeof(StockReleased), typeof(ReservationVoided));

    protected override string StoreName => StoreNames.Inventory;

    protected override string StreamPrefix => "sku";

    protected override EventTypes Types => EventTypes;

    protected override InventoryState Initial => InventoryState.Empty;

    protected override int SnapshotSchema => 2;

    protected override InventoryState Apply(InventoryState state, object @event, EventMeta meta) => InventoryState.Apply(state, @event, meta);

    protected override InventoryState Forget(InventoryState state, DateTimeOffset before) => state.Forget(before);

    public Task<CommandResult> Restock(string commandId, int quantity, decimal unitPrice) =>
        ExecuteAsync(commandId, _ => Decision.Emit(new StockAdded(quantity, unitPrice)));

    public Task<CommandResult> Reserve(string commandId, string reservationId, int quantity) => ExecuteAsync(commandId, state =>
        !state.Exists ? Decision.Refuse("sku-unknown", $"SKU {Sku} does not exist")
        : state.Voided.ContainsKey(reservationId) ? Decision.Refuse("cancelled", $"reservation {reservationId} was released before it arrived")
        : state.Reservations.ContainsKey(reservationId) ? Decision.NothingToDo
        : state.Available < quantity ? Decision.Emit(new ReservationRejected(reservationId, quantity, "insufficient-stock", $"{state.Available} of {Sku} available, {quantity} asked"))
        : Decision.Emit(new StockReserved(reservationId, quantity)));

    /// <summary>Releases the reservation if it was made; otherwise leaves a tombstone, so that it cannot be made later.</summary>
    public Task<CommandResult> Release(string commandId, string reservationId) => ExecuteAsync(commandId, state =>
        state.Reservations.TryGetValue(reservationId, out var reservation) ? Decision.Emit(new StockReleased(reservationId, reservation.Quantity))
        : state.Voided.ContainsKey(reservationId) || !state.Exists ? Decision.NothingToDo
        : Decision.Emit(new ReservationVoided(reservationId)));

    public async Task<StockView> Get()
    {
        var state = await CurrentAsync();
        return new StockView(Sku, state.Exists, state.OnHand, state.Reserved, state.UnitPrice, Version);
    }

    private string Sku => this.GetPrimaryKeyString();
}
