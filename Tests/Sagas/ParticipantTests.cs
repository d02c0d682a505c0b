using Npgsql;
using Reliability.Infrastructure;
using Reliability.Services;
using Reliability.Services.Accounts;
using Reliability.Services.EventSourcing;
using Reliability.Services.EventStore;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Sagas;

[Collection(ClusterCollection.Name)]
public sealed class ParticipantTests(ClusterFixture fixture)
{
    private readonly string _account = $"acct-{Guid.NewGuid():N}";

    private IAccountGrain Account => fixture.Client.GetGrain<IAccountGrain>(_account);

    [Fact]
    public async Task Command_SentTwiceWithTheSameId_IsAppliedOnce_AndTheRepeatAnswersTheFirstOutcome()
    {
        await Account.Open("open", 100m);

        var first = await Account.Debit("saga-1/0", 30m, "t1");
        var again = await Account.Debit("saga-1/0", 30m, "t1");

        Assert.True(first.Succeeded);
        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Position, again.Position);
        Assert.Equal(70m, (await Account.Get()).Balance);
        Assert.Equal(2, await CountEventsAsync());
    }

    [Fact]
    public async Task Rejection_IsRecorded_SoTheSameCommandStaysRejectedEvenAfterTheRuleWouldPass()
    {
        await Account.Open("open", 10m);

        var rejected = await Account.Debit("d1", 50m, "t");
        await Account.Credit("c1", 100m, "top-up");
        var repeated = await Account.Debit("d1", 50m, "t");

        Assert.Equal("insufficient-funds", rejected.Code);
        Assert.False(repeated.Succeeded);
        Assert.True(repeated.Duplicate);
        Assert.Equal(110m, (await Account.Get()).Balance);
    }

    [Fact]
    public async Task Debit_OfAnUnknownAccount_IsRejected_WithoutCreatingAStream()
    {
        var result = await Account.Debit("d1", 1m, "t");

        Assert.Equal("account-unknown", result.Code);
        Assert.Equal(0, await CountEventsAsync());
    }

    [Fact]
    public async Task RefundDebit_GivesBackExactlyWhatItsDebitTook_Once_AndNothingForADebitThatNeverHappened()
    {
        await Account.Open("open", 100m);
        await Account.Debit("t/0", 40m, "t");

        await Account.RefundDebit("t/0/undo", "t/0");
        await Account.RefundDebit("t/0/undo-again", "t/0");
        await Account.RefundDebit("never/0/undo", "never/0");

        Assert.Equal(100m, (await Account.Get()).Balance);
    }

    /// <summary>
    /// A compensation that finds nothing to undo leaves a tombstone, so an action that arrives after it
    /// (queued on a silo that was paused and declared dead, then resumed) is refused, in every service.
    /// </summary>
    [Fact]
    public async Task Debit_ArrivingAfterItsRefund_IsRefused_AndTheBalanceIsUnchanged()
    {
        await Account.Open("open", 100m);

        await Account.RefundDebit("t/0/undo", "t/0");
        var late = await Account.Debit("t/0", 40m, "t");
        await fixture.Cluster.DeactivateAsync(Account);
        var again = await Account.Debit("t/0", 40m, "t");

        Assert.Equal("cancelled", late.Code);
        Assert.Equal("cancelled", again.Code);
        Assert.Equal(100m, (await Account.Get()).Balance);
    }

    [Fact]
    public async Task Reservation_ArrivingAfterItsRelease_IsRefused_AndNothingStaysReserved()
    {
        var sku = fixture.Client.GetGrain<IInventoryGrain>($"sku-{Guid.NewGuid():N}");
        await sku.Restock("seed", 10, 1m);

        await sku.Release("o1/1/undo", "o1:sku");
        var late = await sku.Reserve("o1/1", "o1:sku", 3);

        Assert.Equal("cancelled", late.Code);
        Assert.Equal(0, (await sku.Get()).Reserved);
    }

    [Fact]
    public async Task Charge_ArrivingAfterItsRefund_IsRefused()
    {
        var payment = fixture.Client.GetGrain<IPaymentGrain>($"pay-{Guid.NewGuid():N}");

        await payment.Refund("t/1/undo");
        var late = await payment.Charge("t/1", "alice", "bob", 10m, "t");

        Assert.Equal("cancelled", late.Code);
        Assert.NotEqual(PaymentStatus.Charged, (await payment.Get()).Status);
    }

    [Fact]
    public async Task OrderCreate_ArrivingAfterItsCancel_IsRefused()
    {
        var order = fixture.Client.GetGrain<IOrderGrain>($"o-{Guid.NewGuid():N}");

        await order.Cancel("o/0/undo", "its saga was compensated");
        var late = await order.Create("o/0", "alice", [new OrderLine("sku", 1, 1m)]);

        Assert.Equal("cancelled", late.Code);
        Assert.NotEqual(OrderStatus.Pending, (await order.Get()).Status);
    }

    [Fact]
    public async Task State_RebuiltFromEvents_AfterDeactivation_EqualsTheFoldOfTheStoredEvents()
    {
        await Account.Open("open", 100m);
        await Account.Debit("d1", 30m, "t");
        await Account.Credit("c1", 5.5m, "t");
        await Account.RefundDebit("d1/undo", "d1");

        await fixture.Cluster.DeactivateAsync(Account);
        var rebuilt = await Account.Get();
        var stored = await Store().ReadStreamAsync($"account-{_account}");
        var folded = stored.Aggregate(AccountState.Empty, (s, e) => AccountState.Apply(s, AccountGrain.EventTypes.Deserialize(e.Type, e.Payload), new EventMeta(e.CommandId, e.RecordedAt)));

        Assert.Equal(105.5m, rebuilt.Balance);
        Assert.Equal(folded.Balance, rebuilt.Balance);
        Assert.Equal(stored.Count, rebuilt.Version);
    }

    /// <summary>
    /// A busy account is not replayed from its first event on every activation: it starts from its latest
    /// snapshot. Deleting the events the snapshot covers proves the activation never reads them.
    /// </summary>
    [Fact]
    public async Task BusyAccount_AfterDeactivation_StartsFromItsSnapshot_NotFromItsFirstEvent()
    {
        await Account.Open("open", 0m);
        for (var i = 0; i < 1_100; i++)
        {
            await Account.Credit($"c{i}", 1m, "t");
        }

        // Older than the commands the grain keeps in memory: the store still refuses to apply it twice.
        var old = await Account.Credit("c3", 1m, "t");
        await fixture.Cluster.DeactivateAsync(Account);
        await using (var connection = new NpgsqlConnection(fixture.Database.ConnectionStringFor(StoreNames.Accounts)))
        {
            await connection.OpenAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM events WHERE stream_id = @stream AND version <= 1000", connection);
            delete.Parameters.AddWithValue("stream", $"account-{_account}");
            Assert.Equal(1000, await delete.ExecuteNonQueryAsync());
        }

        var view = await Account.Get();
        var duplicate = await Account.Credit("c1050", 1m, "t");

        Assert.True(old.Duplicate);
        Assert.True(view.Exists);
        Assert.Equal(1_100m, view.Balance);
        Assert.Equal(1_101, view.Version);
        Assert.True(duplicate.Duplicate);
    }

    [Fact]
    public async Task ConcurrentAppends_AtTheSameVersion_OneWins_TheOtherGetsAConflict()
    {
        var store = Store();
        var stream = $"race-{Guid.NewGuid():N}";
        await store.AppendAsync(stream, 0, [new EventData("AccountOpened", """{"initialBalance":1}""", "open")]);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Try(() =>
            store.AppendAsync(stream, 1, [new EventData("AccountCredited", """{"amount":1,"reference":"r"}""", $"c{i}")]))));

        Assert.Single(attempts, a => a is null);
        Assert.Single(attempts, a => a is ConcurrencyConflictException);
        Assert.Equal(2, (await store.ReadStreamAsync(stream)).Count);
    }

    private PostgresEventStore Store() => new PostgresEventStores(fixture.Database).Postgres(StoreNames.Accounts);

    private static async Task<Exception?> Try(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private async Task<long> CountEventsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionStringFor(StoreNames.Accounts));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM events WHERE stream_id = @stream", connection);
        command.Parameters.AddWithValue("stream", $"account-{_account}");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
