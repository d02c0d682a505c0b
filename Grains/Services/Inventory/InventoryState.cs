using System.Collections.Immutable;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Inventory;

/// <summary>A reservation as its release needs it: how many, and since when.</summary>
public sealed record ReservationEntry(int Quantity, DateTimeOffset At);

/// <summary>
/// One SKU's stock as the fold of its events. Invariant: Reserved ≤ OnHand. A reservation can be released
/// for the dedupe window; after it, it stays counted in <see cref="Reserved"/> (the stock is sold) but is
/// no longer listed, so the state does not grow with every order. Releases that came before their
/// reservation leave a tombstone for the same window.
/// </summary>
public sealed record InventoryState(
    bool Exists,
    int OnHand,
    int Reserved,
    decimal UnitPrice,
    ImmutableDictionary<string, ReservationEntry> Reservations,
    ImmutableDictionary<string, DateTimeOffset> Voided)
{
    public static InventoryState Empty { get; } = new(false, 0, 0, 0, ImmutableDictionary<string, ReservationEntry>.Empty, ImmutableDictionary<string, DateTimeOffset>.Empty);

    public int Available => OnHand - Reserved;

    public static InventoryState Apply(InventoryState state, object @event, EventMeta meta) => @event switch
    {
        StockAdded added => state with { Exists = true, OnHand = state.OnHand + added.Quantity, UnitPrice = added.UnitPrice },
        StockReserved reserved => state with
        {
            Reserved = state.Reserved + reserved.Quantity,
            Reservations = state.Reservations.SetItem(reserved.ReservationId, new ReservationEntry(reserved.Quantity, meta.At)),
        },
        StockReleased released => state with { Reserved = state.Reserved - released.Quantity, Reservations = state.Reservations.Remove(released.ReservationId) },
        ReservationVoided voided => state with { Voided = state.Voided.SetItem(voided.ReservationId, meta.At) },
        _ => state,
    };

    /// <summary>Stops listing reservations and tombstones older than <paramref name="before"/> (their counts stay).</summary>
    public InventoryState Forget(DateTimeOffset before) => this with { Reservations = Reservations.Since(r => r.At, before), Voided = Voided.Since(at => at, before) };
}
