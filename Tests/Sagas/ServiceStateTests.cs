using System.Collections.Immutable;
using Reliability.Services.Accounts;
using Reliability.Services.EventSourcing;
using Reliability.Services.Inventory;

namespace Reliability.Tests.Sagas;

/// <summary>The services' folds keep what compensations need only for the dedupe window.</summary>
public sealed class ServiceStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Account_ForgetsRefundsAndTombstonesOlderThanTheWindow_KeepsTheBalance()
    {
        var state = AccountState.Apply(AccountState.Empty, new AccountOpened(100m), new EventMeta("open", T0));
        state = AccountState.Apply(state, new AccountDebited(10m, "t"), new EventMeta("old/0", T0));
        state = AccountState.Apply(state, new DebitRefunded("old/0", 10m), new EventMeta("old/0/undo", T0));
        state = AccountState.Apply(state, new DebitVoided("never/0"), new EventMeta("never/0/undo", T0));
        state = AccountState.Apply(state, new DebitVoided("recent/0"), new EventMeta("recent/0/undo", T0.AddDays(6)));

        var kept = state.Forget(T0.AddDays(1));

        Assert.Equal(100m, kept.Balance);
        Assert.Empty(kept.Refunded);
        Assert.Equal(["recent/0"], kept.Voided.Keys);
    }

    [Fact]
    public void Inventory_StopsListingOldReservations_ButKeepsThemReserved()
    {
        var state = InventoryState.Apply(InventoryState.Empty, new StockAdded(10, 1m), new EventMeta("seed", T0));
        state = InventoryState.Apply(state, new StockReserved("o1:sku", 3), new EventMeta("o1/1", T0));
        state = InventoryState.Apply(state, new StockReserved("o2:sku", 2), new EventMeta("o2/1", T0.AddDays(8)));

        var kept = state.Forget(T0.AddDays(7));

        Assert.Equal(5, kept.Reserved);
        Assert.Equal(5, kept.Available);
        Assert.Equal(["o2:sku"], kept.Reservations.Keys);
        Assert.Equal(ImmutableDictionary<string, DateTimeOffset>.Empty, kept.Voided);
    }
}
