using Npgsql;
using Reliability.Infrastructure;
using Reliability.Services;
using Reliability.Services.Accounts;
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
        var folded = stored.Aggregate(AccountState.Empty, (s, e) => AccountState.Apply(s, AccountGrain.EventTypes.Deserialize(e.Type, e.Payload), e.CommandId));

        Assert.Equal(105.5m, rebuilt.Balance);
        Assert.Equal(folded.Balance, rebuilt.Balance);
        Assert.Equal(stored.Count, rebuilt.Version);
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
