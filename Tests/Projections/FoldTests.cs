using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Projections.BuiltIn;
using Reliability.Services;
using Reliability.Services.Accounts;
using Reliability.Services.EventSourcing;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Tests.Projections;

public sealed class FoldTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private long _position;

    private ProjectedEvent Meta(string store, string stream, int version = 1) =>
        new(store, ++_position, (ulong)_position, stream, version, "", "", T0.AddSeconds(_position));

    /// <summary>An event as its runner reads it from the store's table: type name and JSON payload.</summary>
    private ProjectedEvent Recorded(string store, string stream, object e) =>
        Meta(store, stream) with { Type = EventTypes.NameOf(e), Payload = InventoryGrain.EventTypes.Serialize(e) };

    [Fact]
    public void OrderSummary_JoinsTheOrderItsReservationsAndItsPayment()
    {
        var view = OrderSummaryFold.Empty("o1");
        view = OrderSummaryFold.Apply(view, new OrderCreated("carol", [new OrderLine("apple", 2, 1.5m), new OrderLine("pear", 1, 4m)]), Meta(StoreNames.Orders, "order-o1"));
        view = OrderSummaryFold.Apply(view, new StockReserved("o1:apple", 2), Meta(StoreNames.Inventory, "sku-apple", 7));
        view = OrderSummaryFold.Apply(view, new ReservationRejected("o1:pear", 1, "insufficient-stock", "none left"), Meta(StoreNames.Inventory, "sku-pear", 3));
        view = OrderSummaryFold.Apply(view, new StockReleased("o1:apple", 2), Meta(StoreNames.Inventory, "sku-apple", 8));
        view = OrderSummaryFold.Apply(view, new OrderCancelled("stock"), Meta(StoreNames.Orders, "order-o1", 2));

        Assert.Equal("carol", view.CustomerId);
        Assert.Equal(7m, view.Total);
        Assert.Equal(OrderStatus.Cancelled, view.Status);
        Assert.Equal(PaymentStatus.None, view.Payment);
        Assert.Equal(
            [new ReservationView("pear", 1, ReservationState.Rejected), new ReservationView("apple", 2, ReservationState.Released)],
            view.Reservations.AsEnumerable());
        Assert.Equal(5, view.Revision);
        Assert.Equal(T0.AddSeconds(5), view.UpdatedAt);
    }

    [Fact]
    public void OrderSummary_EventsOfOtherServicesFirst_StillEndConfirmedAndCharged()
    {
        // The runner reads three stores side by side: the confirmation may arrive before the creation's batch.
        var view = OrderSummaryFold.Empty("o2");
        view = OrderSummaryFold.Apply(view, new PaymentCharged("dan", "shop", 9m, "o2"), Meta(StoreNames.Payments, "payment-order-o2"));
        view = OrderSummaryFold.Apply(view, new OrderConfirmed(), Meta(StoreNames.Orders, "order-o2", 2));
        view = OrderSummaryFold.Apply(view, new OrderCreated("dan", [new OrderLine("fig", 3, 3m)]), Meta(StoreNames.Orders, "order-o2"));

        Assert.Equal(OrderStatus.Confirmed, view.Status);
        Assert.Equal(PaymentStatus.Charged, view.Payment);
        Assert.Equal(9m, view.Total);
    }

    [Fact]
    public void OrderSummary_CreatedWithoutLines_Throws_SoTheEventIsParked()
    {
        var ex = Assert.Throws<InvalidDataException>(() =>
            OrderSummaryFold.Apply(OrderSummaryFold.Empty("o3"), new OrderCreated("eve", []), Meta(StoreNames.Orders, "order-o3")));
        Assert.Contains("no lines", ex.Message);
    }

    [Fact]
    public void Statement_FollowsTheBalance_AndKeepsTheNewestMovements()
    {
        var view = StatementFold.Empty("a1");
        view = StatementFold.Apply(view, new AccountOpened(100m), Meta(StoreNames.Accounts, "account-a1"));
        view = StatementFold.Apply(view, new AccountDebited(30m, "t1"), Meta(StoreNames.Accounts, "account-a1", 2));
        view = StatementFold.Apply(view, new DebitRejected(500m, "t2", "insufficient-funds", "no"), Meta(StoreNames.Accounts, "account-a1", 3));
        view = StatementFold.Apply(view, new DebitRefunded("t1", 30m), Meta(StoreNames.Accounts, "account-a1", 4));
        view = StatementFold.Apply(view, new AccountCredited(5m, "t3"), Meta(StoreNames.Accounts, "account-a1", 5));

        Assert.True(view.Open);
        Assert.Equal(105m, view.Balance);
        Assert.Equal(4, view.MovementCount);
        Assert.Equal(["opened:100:100", "debit:-30:70", "refund:30:100", "credit:5:105"],
            view.RecentMovements.Select(m => $"{m.Kind}:{m.Amount}:{m.BalanceAfter}"));

        for (var i = 0; i < StatementFold.KeptMovements + 10; i++)
        {
            view = StatementFold.Apply(view, new AccountCredited(1m, $"c{i}"), Meta(StoreNames.Accounts, "account-a1", 6 + i));
        }

        Assert.Equal(StatementFold.KeptMovements, view.RecentMovements.Length);
        Assert.Equal(64, view.MovementCount);
        Assert.Equal(165m, view.RecentMovements[^1].BalanceAfter);
        Assert.Equal(165m, view.Balance);
    }

    [Fact]
    public void Totals_CountOrdersByStatus_RevenueOfOrdersOnly_AndReservedStock()
    {
        var view = TotalsFold.Empty;
        view = TotalsFold.Apply(view, new OrderCreated("a", [new OrderLine("x", 1, 1m)]), Meta(StoreNames.Orders, "order-1"));
        view = TotalsFold.Apply(view, new OrderCreated("b", [new OrderLine("x", 1, 1m)]), Meta(StoreNames.Orders, "order-2"));
        view = TotalsFold.Apply(view, new OrderCreated("c", [new OrderLine("x", 1, 1m)]), Meta(StoreNames.Orders, "order-3"));
        view = TotalsFold.Apply(view, new OrderConfirmed(), Meta(StoreNames.Orders, "order-1", 2));
        view = TotalsFold.Apply(view, new OrderCancelled("no"), Meta(StoreNames.Orders, "order-2", 2));
        view = TotalsFold.Apply(view, new PaymentCharged("a", "shop", 40m, "1"), Meta(StoreNames.Payments, "payment-order-1"));
        view = TotalsFold.Apply(view, new PaymentCharged("b", "shop", 15m, "2"), Meta(StoreNames.Payments, "payment-order-2"));
        view = TotalsFold.Apply(view, new PaymentRefunded(15m), Meta(StoreNames.Payments, "payment-order-2", 2));
        view = TotalsFold.Apply(view, new PaymentCharged("alice", "bob", 1000m, "t1"), Meta(StoreNames.Payments, "payment-t1"));
        view = TotalsFold.Apply(view, new StockReserved("1:x", 4), Meta(StoreNames.Inventory, "sku-x"));
        view = TotalsFold.Apply(view, new StockReserved("2:x", 3), Meta(StoreNames.Inventory, "sku-x", 2));
        view = TotalsFold.Apply(view, new StockReleased("2:x", 3), Meta(StoreNames.Inventory, "sku-x", 3));

        Assert.Equal(1, view.OrdersByStatus[OrderStatus.Pending]);
        Assert.Equal(1, view.OrdersByStatus[OrderStatus.Confirmed]);
        Assert.Equal(1, view.OrdersByStatus[OrderStatus.Cancelled]);
        Assert.Equal(40m, view.Revenue);
        Assert.Equal(4, view.StockReserved);
        Assert.Equal(12, view.EventsApplied);
    }

    [Theory]
    [InlineData("orders", "order-42", "42")]
    [InlineData("payments", "payment-order-42", "42")]
    [InlineData("payments", "payment-t-7", null)]
    [InlineData("accounts", "account-a", null)]
    public void Routing_FindsTheOrderOfAnEvent(string store, string stream, string? order)
    {
        Assert.Equal(order, OrdersProjection.OrderOf(Recorded(store, stream, new OrderConfirmed())));
    }

    [Fact]
    public void ViewKeys_KeepTheirTextForm_AndGiveBackTheIdAndTheKeysOfOtherViewsOfTheSameGeneration()
    {
        var key = new ViewKey(ProjectionNames.Orders, 12, ViewRef.Order("shop:42"));
        var parsed = ViewKey.Parse(key.GrainKey);

        // The text form is what the stored views are keyed by: it may not change.
        Assert.Equal("v:orders:12:order:shop:42", key.GrainKey);
        Assert.Equal("v:totals:3:all", new ViewKey(ProjectionNames.Totals, 3, ViewRef.Single).GrainKey);
        Assert.Equal(key, parsed);
        Assert.Equal("shop:42", parsed.View.Id);
        Assert.Equal("v:orders:12:customer:c:1", parsed.Sibling(ViewRef.Customer("c:1")).GrainKey);
        Assert.Equal(ViewRef.Single, ViewKey.Parse("v:totals:3:all").View);
        Assert.Throws<FormatException>(() => ViewKey.Parse("orders:12"));
    }

    [Fact]
    public void TheClientsListOfBuiltInProjections_IsTheSilosListOfDescriptors()
    {
        Assert.Equal(ProjectionNames.All, ProjectionDefinitions.Names);
    }

    [Fact]
    public void Routing_FindsTheOrderOfAReservation_EvenWhenTheOrderIdHasColons()
    {
        Assert.Equal("shop:42", OrdersProjection.OrderOf(Recorded(StoreNames.Inventory, "sku-x", new StockReserved("shop:42:x", 1))));
        Assert.Null(OrdersProjection.OrderOf(Recorded(StoreNames.Inventory, "sku-x", new StockAdded(5, 1m))));
    }

    [Theory]
    [InlineData("orders:12", true)]
    [InlineData("orders:12,payments:3", true)]
    [InlineData("", true)]
    [InlineData("orders:0", false)]
    [InlineData("sagas:4", false)]
    [InlineData("orders:x", false)]
    [InlineData("orders:1:2", false)]
    public void ConsistencyTokens_Parse(string text, bool valid)
    {
        Assert.Equal(valid, ConsistencyToken.TryParseList(text, out _));
    }
}
