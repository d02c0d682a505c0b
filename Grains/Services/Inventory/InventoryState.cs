using System.Collections.Immutable;

namespace Reliability.Services.Inventory;

/// <summary>One SKU's stock as the fold of its events. Invariant: Reserved ≤ OnHand.</summary>
public sealed record InventoryState(bool Exists, int OnHand, int Reserved, decimal UnitPrice, ImmutableDictionary<string, int> Reservations)
{
    public static InventoryState Empty { get; } = new(false, 0, 0, 0, ImmutableDictionary<string, int>.Empty);

    public int Available => OnHand - Reserved;

    public static InventoryState Apply(InventoryState state, object @event) => @event switch
    {
        StockAdded added => state with { Exists = true, OnHand = state.OnHand + added.Quantity, UnitPrice = added.UnitPrice },
        StockReserved reserved => state with { Reserved = state.Reserved + reserved.Quantity, Reservations = state.Reservations.SetItem(reserved.ReservationId, reserved.Quantity) },
        StockReleased released => state with { Reserved = state.Reserved - released.Quantity, Reservations = state.Reservations.Remove(released.ReservationId) },
        _ => state,
    };
}
