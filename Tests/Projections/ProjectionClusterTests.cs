using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Sagas;
using Reliability.Services;

namespace Reliability.Tests.Projections;

/// <summary>Projections on a 3-silo cluster, fed by real sagas. The tests of this class run one after another.</summary>
public sealed class ProjectionClusterTests(ProjectionClusterFixture fixture) : IClassFixture<ProjectionClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task PlacedOrder_WithItsTokens_IsReadBackFromEveryView_NotStale()
    {
        var shop = new Shop(Client);
        var sku = await shop.StockAsync(10, 2.5m);

        var saga = await shop.PlaceOrderAsync("carol", new OrderLine(sku, 2, 2.5m));
        var tokens = Shop.Tokens(saga);

        Assert.Equal(SagaStatus.Completed, saga.Status);
        Assert.Equal([StoreNames.Inventory, StoreNames.Orders, StoreNames.Payments], tokens.Select(t => t.Store));
        var summary = await Client.ReadOrderSummaryAsync(shop.Orders[0], tokens, Wait);
        Assert.False(summary.Stale);
        Assert.Equal(OrderStatus.Confirmed, summary.View!.Status);
        Assert.Equal(PaymentStatus.Charged, summary.View.Payment);
        Assert.Equal(5m, summary.View.Total);
        Assert.Equal([new ReservationView(sku, 2, ReservationState.Reserved)], summary.View.Reservations.AsEnumerable());

        var customer = await Client.ReadCustomerOrdersAsync("carol", tokens, Wait);
        Assert.False(customer.Stale);
        Assert.Contains(customer.View!.Orders, o => o.OrderId == shop.Orders[0] && o.Status == OrderStatus.Confirmed && o.Payment == PaymentStatus.Charged);

        var totals = await Client.ReadTotalsAsync(tokens, Wait);
        Assert.False(totals.Stale);
        Assert.True(totals.View!.Revenue >= 5m);
        Assert.True(totals.View.StockReserved >= 2);
    }

    [Fact]
    public async Task Transfer_ShowsInBothStatements()
    {
        var shop = new Shop(Client);
        var (alice, bob) = (await shop.AccountAsync(100m), await shop.AccountAsync(0m));

        var saga = await shop.TransferAsync(alice, bob, 40m);

        Assert.Equal(SagaStatus.Completed, saga.Status);
        var from = await Client.ReadStatementAsync(alice, Shop.Tokens(saga), Wait);
        var to = await Client.ReadStatementAsync(bob, Shop.Tokens(saga), Wait);
        Assert.False(from.Stale);
        Assert.Equal(60m, from.View!.Balance);
        Assert.Equal(["opened", "debit"], from.View.RecentMovements.Select(m => m.Kind));
        Assert.Equal(40m, to.View!.Balance);
    }

    [Fact]
    public async Task TokenOfAnEventThatNeverHappened_AnswersWithTheStaleFlag()
    {
        var read = await Client.ReadTotalsAsync([new ConsistencyToken(StoreNames.Orders, 1_000_000_000)], TimeSpan.FromMilliseconds(300));

        Assert.True(read.Stale);
        Assert.NotNull(read.View);
    }

    [Fact]
    public async Task Rebuild_GivesIdenticalViews_OnANewGeneration_AndDropsTheOldOne()
    {
        var shop = await BusyShopAsync();
        await shop.CaughtUpAllAsync();
        var before = await shop.SnapshotAsync();
        var old = (await Client.GetGrain<IProjectionRunnerGrain>(ProjectionNames.Orders).GetStatus()).LiveGeneration;
        var oldRows = await ViewRowsAsync(ProjectionNames.Orders, old);

        await shop.RebuildAllAsync();
        var after = await shop.SnapshotAsync();

        Assert.Equal(before, after);
        var status = await Client.GetGrain<IProjectionRunnerGrain>(ProjectionNames.Orders).GetStatus();
        Assert.Equal(old + 1, status.LiveGeneration);
        Assert.True(oldRows > 0);
        Assert.Equal(0, await ViewRowsAsync(ProjectionNames.Orders, old));
        Assert.Equal(await EventTables.TotalsEventsAsync(fixture.Database), (await Client.ReadTotalsAsync([], TimeSpan.Zero)).View!.EventsApplied);
    }

    /// <summary>
    /// Order events appended straight to the table by 8 writers whose transactions stay open for a random
    /// while, so they commit out of position order: every one reaches the views exactly once.
    /// </summary>
    [Fact]
    public async Task AppendsCommittingOutOfOrder_AreEachAppliedExactlyOnce()
    {
        var random = new Random(42);
        var orders = Enumerable.Range(0, 160).Select(i => $"gap-{Guid.NewGuid():N}"[..14]).ToList();
        var delays = orders.Select(_ => TimeSpan.FromMilliseconds(random.Next(0, 60))).ToList();
        using var gate = new SemaphoreSlim(8);

        await Task.WhenAll(orders.Select(async (order, i) =>
        {
            await gate.WaitAsync();
            try
            {
                await EventTables.AppendSlowlyAsync(fixture.Database, StoreNames.Orders, $"order-{order}", 1, "OrderCreated",
                    """{"customerId":"gap-customer","lines":[{"sku":"s","quantity":1,"unitPrice":1}]}""", delays[i]);
            }
            finally
            {
                gate.Release();
            }
        }));

        var shop = new Shop(Client);
        await shop.CaughtUpAllAsync();
        var views = await Task.WhenAll(orders.Select(o => Client.ReadOrderSummaryAsync(o, [], TimeSpan.Zero)));
        Assert.All(views, v => Assert.Equal(1, v.View!.Revision));
        var customer = await Client.ReadCustomerOrdersAsync("gap-customer", [], TimeSpan.Zero);
        // The customer's view keeps the newest hundred of the 160 (each once); every order has its own summary.
        var held = customer.View!.Orders.Select(o => o.OrderId).ToList();
        Assert.Equal(CustomerOrders.MaxOrders, held.Count);
        Assert.Equal(held.Count, held.Distinct().Count());
        Assert.All(held, o => Assert.Contains(o, orders));
        Assert.Equal(await EventTables.TotalsEventsAsync(fixture.Database), (await Client.ReadTotalsAsync([], TimeSpan.Zero)).View!.EventsApplied);
    }

    [Fact]
    public async Task PoisonEvent_IsParked_TheRestFlows_AndAfterARepairItReplays()
    {
        var poisonOrder = $"poison-{Guid.NewGuid():N}"[..20];
        var position = await EventTables.AppendSlowlyAsync(fixture.Database, StoreNames.Orders, $"order-{poisonOrder}", 1, "OrderCreated",
            """{"customerId":"mallory","lines":[]}""", TimeSpan.Zero);
        var shop = new Shop(Client);
        var sku = await shop.StockAsync(5, 1m);

        var after = await shop.PlaceOrderAsync("mallory", new OrderLine(sku, 1, 1m));

        var good = await Client.ReadOrderSummaryAsync(shop.Orders[0], Shop.Tokens(after), Wait);
        Assert.False(good.Stale);
        Assert.Equal(OrderStatus.Confirmed, good.View!.Status);
        var runner = Client.GetGrain<IProjectionRunnerGrain>(ProjectionNames.Orders);
        var parked = Assert.Single(await runner.GetParked(100), p => p.Position == position);
        Assert.Contains("no lines", parked.Error);
        Assert.Equal(3, parked.Attempts);
        Assert.True((await runner.GetStatus()).Parked >= 1);
        Assert.Null((await Client.ReadOrderSummaryAsync(poisonOrder, [], TimeSpan.Zero)).View);

        await EventTables.ScalarAsync(fixture.Database, StoreNames.Orders,
            """UPDATE events SET payload = '{"customerId":"mallory","lines":[{"sku":"s","quantity":3,"unitPrice":2}]}' WHERE position = $1""", position);
        var replayed = await runner.ReplayParked();

        Assert.True(replayed >= 1);
        Assert.DoesNotContain(await runner.GetParked(100), p => p.Position == position);
        Assert.Equal(6m, (await Client.ReadOrderSummaryAsync(poisonOrder, [], TimeSpan.Zero)).View!.Total);
        var customer = await Client.ReadCustomerOrdersAsync("mallory", [], TimeSpan.Zero);
        Assert.Contains(customer.View!.Orders, o => o.OrderId == poisonOrder);
    }

    [Fact]
    public async Task Status_ShowsNoBacklog_AndTheLagOfRecentEvents()
    {
        var shop = new Shop(Client);
        var sku = await shop.StockAsync(10, 1m);
        await shop.PlaceOrderAsync("frank", new OrderLine(sku, 1, 1m));

        var status = await shop.CaughtUpAsync(ProjectionNames.Orders);

        Assert.Equal([StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments], status.Sources.Select(s => s.Store));
        Assert.All(status.Sources, s => Assert.True(s.CheckpointPosition > 0));
        Assert.True(status.Lag.Samples > 0);
        Assert.True(status.Lag.P99Ms >= status.Lag.P50Ms);
        Assert.False(string.IsNullOrEmpty(status.Silo));
    }

    /// <summary>Orders that complete, are declined (over the payment limit) or run out of stock, and transfers.</summary>
    private async Task<Shop> BusyShopAsync()
    {
        var shop = new Shop(Client);
        var (cheap, dear, scarce) = (await shop.StockAsync(100, 3m), await shop.StockAsync(100, 6_000m), await shop.StockAsync(1, 10m));
        var accounts = new[] { await shop.AccountAsync(500m), await shop.AccountAsync(500m), await shop.AccountAsync(0m) };
        var work = new List<Task>();
        for (var i = 0; i < 12; i++)
        {
            var customer = $"c{i % 4}-{Guid.NewGuid():N}"[..10];
            work.Add(shop.PlaceOrderAsync(customer, new OrderLine(cheap, 1 + (i % 3), 3m)));
            work.Add(shop.TransferAsync(accounts[i % 3], accounts[(i + 1) % 3], 25m));
        }

        await Task.WhenAll(work);
        await shop.PlaceOrderAsync("big-spender", new OrderLine(dear, 2, 6_000m));
        await shop.PlaceOrderAsync("late", new OrderLine(scarce, 1, 10m), new OrderLine(cheap, 1, 3m));
        await shop.PlaceOrderAsync("later", new OrderLine(scarce, 1, 10m));
        return shop;
    }

    private Task<long> ViewRowsAsync(string projection, int generation) => EventTables.ScalarAsync(fixture.Database, StoreNames.Projections,
        "SELECT count(*) FROM view_states WHERE grain_key LIKE $1", ViewKey.Prefix(projection, generation) + "%");

    [Fact]
    public async Task CustomerWithManyOrders_KeepsTheNewestHundred()
    {
        var customer = Client.GetGrain<ICustomerOrdersViewGrain>(new ViewKey(ProjectionNames.Orders, 1, ViewRef.Customer($"busy-{Guid.NewGuid():N}")).GrainKey);
        var start = DateTimeOffset.UtcNow;
        for (var i = 0; i < 120; i++)
        {
            await customer.Upsert(new OrderSummary($"o{i:000}", "busy", OrderStatus.Confirmed, [], 1m, PaymentStatus.Charged, [], 1, start.AddSeconds(i)), Guid.Empty);
        }

        var orders = (await customer.Get()).Orders;

        Assert.Equal(100, orders.Length);
        Assert.Equal("o119", orders[0].OrderId);
        Assert.Equal("o020", orders[^1].OrderId);
    }
}
