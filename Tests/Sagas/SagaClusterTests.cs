using Reliability.Sagas;
using Reliability.Services;

namespace Reliability.Tests.Sagas;

public sealed class SagaClusterTests(SagaClusterFixture fixture) : IClassFixture<SagaClusterFixture>
{
    private IAccountGrain Account(string id) => fixture.Client.GetGrain<IAccountGrain>(id);

    [Fact]
    public async Task Transfer_AllStepsSucceed_MovesTheMoneyAndCompletes()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(100m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";

        var saga = await fixture.RunAsync($"transfer-{id}", SagaDefinitions.Transfer(id, alice, bob, 30m));

        Assert.Equal(SagaStatus.Completed, saga.Status);
        Assert.Equal(70m, (await Account(alice).Get()).Balance);
        Assert.Equal(30m, (await Account(bob).Get()).Balance);
        Assert.Equal(PaymentStatus.Charged, (await fixture.Client.GetGrain<IPaymentGrain>(id).Get()).Status);
    }

    [Fact]
    public async Task Transfer_PaymentDeclined_RefundsTheDebit_AndIsCompensated()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(50_000m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";

        var saga = await fixture.RunAsync($"transfer-{id}", SagaDefinitions.Transfer(id, alice, bob, 20_000m));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(50_000m, (await Account(alice).Get()).Balance);
        Assert.Equal(0m, (await Account(bob).Get()).Balance);
        Assert.Equal(["debit:succeeded", "record-payment:rejected", "debit (undo):succeeded"],
            saga.History.Where(h => h.Outcome != "started").Select(h => $"{h.StepName}{(h.Compensation ? " (undo)" : "")}:{h.Outcome}"));
    }

    [Fact]
    public async Task Order_PaymentDeclined_ReleasesTheStockAndCancelsTheOrder_InReverse()
    {
        var sku = $"sku-{Guid.NewGuid():N}"[..16];
        await fixture.Client.GetGrain<IInventoryGrain>(sku).Restock("seed", 10, 3_000m);
        var orderId = $"o-{Guid.NewGuid():N}";

        var saga = await fixture.RunAsync($"order-{orderId}", SagaDefinitions.PlaceOrder(orderId, "dave", [new OrderLine(sku, 4, 3_000m)]));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(["reserve-stock[0]", "create-order"], saga.History.Where(h => h.Compensation && h.Outcome == "succeeded").Select(h => h.StepName));
        Assert.Equal(0, (await fixture.Client.GetGrain<IInventoryGrain>(sku).Get()).Reserved);
        Assert.Equal(OrderStatus.Cancelled, (await fixture.Client.GetGrain<IOrderGrain>(orderId).Get()).Status);
    }

    [Fact]
    public async Task Order_WithinTheLimit_ReservesChargesAndConfirms()
    {
        var sku = $"sku-{Guid.NewGuid():N}"[..16];
        await fixture.Client.GetGrain<IInventoryGrain>(sku).Restock("seed", 10, 12.5m);
        var orderId = $"o-{Guid.NewGuid():N}";

        var saga = await fixture.RunAsync($"order-{orderId}", SagaDefinitions.PlaceOrder(orderId, "erin", [new OrderLine(sku, 2, 12.5m)]));

        Assert.Equal(SagaStatus.Completed, saga.Status);
        Assert.Equal(2, (await fixture.Client.GetGrain<IInventoryGrain>(sku).Get()).Reserved);
        Assert.Equal(OrderStatus.Confirmed, (await fixture.Client.GetGrain<IOrderGrain>(orderId).Get()).Status);
        Assert.Equal(25m, (await fixture.Client.GetGrain<IPaymentGrain>(SagaDefinitions.PaymentIdOfOrder(orderId)).Get()).Amount);
    }

    [Fact]
    public async Task CompensationThatKeepsFailing_ParksTheSaga_AndAnOperatorRetryFinishesIt()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(100m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";
        fixture.Options.Faults["debit"] = new StepFaults { CompensationTransientProbability = 1 };
        fixture.Options.Faults["record-payment"] = new StepFaults { RejectProbability = 1 };
        SagaView parked;
        try
        {
            parked = await fixture.RunAsync($"transfer-{id}", SagaDefinitions.Transfer(id, alice, bob, 10m));
        }
        finally
        {
            fixture.Options.Faults.Clear();
        }

        var retried = await fixture.Client.GetGrain<ISagaGrain>($"transfer-{id}").Retry();
        var finished = await fixture.WaitForTerminalAsync($"transfer-{id}", TimeSpan.FromSeconds(30));

        Assert.Equal(SagaStatus.Failed, parked.Status);
        Assert.Contains("parked", parked.FailureReason);
        // Half of the injected faults strike after the refund was applied (its answer lost): parked, the saga cannot know which.
        Assert.InRange((await Account(alice).Get()).Balance, 90m, 100m);
        Assert.True(retried);
        Assert.Equal(SagaStatus.Compensated, finished.Status);
        Assert.Equal(100m, (await Account(alice).Get()).Balance);
    }

    /// <summary>The cancel arrives while the debit runs: it takes effect after it, before the pivot (recording the payment).</summary>
    [Fact]
    public async Task Cancel_OfARunningSaga_CompensatesWhatItDid()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(100m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";
        fixture.Options.Faults["debit"] = new StepFaults { Delay = TimeSpan.FromMilliseconds(800) };
        try
        {
            var saga = fixture.Client.GetGrain<ISagaGrain>($"transfer-{id}");
            await saga.StartWorkflow(SagaDefinitions.Transfer(id, alice, bob, 10m));
            await Task.Delay(300);
            Assert.True(await saga.Cancel("changed my mind"));
        }
        finally
        {
            fixture.Options.Faults.Clear();
        }

        var finished = await fixture.WaitForTerminalAsync($"transfer-{id}", TimeSpan.FromSeconds(30));

        Assert.Equal(SagaStatus.Compensated, finished.Status);
        Assert.Equal("cancelled: changed my mind", finished.FailureReason);
        Assert.Equal(100m, (await Account(alice).Get()).Balance);
        Assert.Equal(0m, (await Account(bob).Get()).Balance);
    }

    /// <summary>
    /// The debit applied but its answer was lost; the saga waits out its backoff before trying again, and
    /// the cancel arrives then: the debit's outcome is unknown, so it is compensated (refunded) too.
    /// </summary>
    [Fact]
    public async Task Cancel_DuringTheBackoff_AfterADebitWhoseAnswerWasLost_RefundsTheDebit()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(100m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";
        var (backoffBase, backoffMax) = (fixture.Options.BackoffBase, fixture.Options.BackoffMax);
        fixture.Options.Faults["debit"] = new StepFaults { LostAnswerProbability = 1 };
        fixture.Options.BackoffBase = fixture.Options.BackoffMax = TimeSpan.FromSeconds(20);
        try
        {
            var saga = fixture.Client.GetGrain<ISagaGrain>($"transfer-{id}");
            await saga.StartWorkflow(SagaDefinitions.Transfer(id, alice, bob, 10m));
            for (var waited = 0; !(await saga.Get())!.History.Any(h => h.Outcome == "failed"); waited++)
            {
                Assert.True(waited < 1000, "the debit's first attempt never failed");
                await Task.Delay(10);
            }

            Assert.Equal(90m, (await Account(alice).Get()).Balance);
            Assert.True(await saga.Cancel("changed my mind"));
        }
        finally
        {
            (fixture.Options.BackoffBase, fixture.Options.BackoffMax) = (backoffBase, backoffMax);
            fixture.Options.Faults.Clear();
        }

        var finished = await fixture.WaitForTerminalAsync($"transfer-{id}", TimeSpan.FromSeconds(30));

        Assert.Equal(SagaStatus.Compensated, finished.Status);
        Assert.Equal(100m, (await Account(alice).Get()).Balance);
        Assert.Equal(0m, (await Account(bob).Get()).Balance);
    }

    [Fact]
    public async Task Cancel_AfterThePivot_IsRefused_AndTheTransferCompletes()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(100m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";
        fixture.Options.Faults["credit"] = new StepFaults { Delay = TimeSpan.FromMilliseconds(500) };
        bool cancelled;
        try
        {
            var saga = fixture.Client.GetGrain<ISagaGrain>($"transfer-{id}");
            await saga.StartWorkflow(SagaDefinitions.Transfer(id, alice, bob, 10m));
            while ((await saga.Get())!.Cursor < 2)
            {
                await Task.Delay(10);
            }

            cancelled = await saga.Cancel("too late");
        }
        finally
        {
            fixture.Options.Faults.Clear();
        }

        var finished = await fixture.WaitForTerminalAsync($"transfer-{id}", TimeSpan.FromSeconds(30));

        Assert.False(cancelled);
        Assert.Equal(SagaStatus.Completed, finished.Status);
        Assert.Equal(10m, (await Account(bob).Get()).Balance);
    }

    [Fact]
    public async Task Start_TwiceWithTheSameId_RunsOneSaga()
    {
        var (alice, bob) = (await fixture.OpenAccountAsync(100m), await fixture.OpenAccountAsync(0m));
        var id = $"t-{Guid.NewGuid():N}";

        await fixture.RunAsync($"transfer-{id}", SagaDefinitions.Transfer(id, alice, bob, 10m));
        var again = await fixture.Client.GetGrain<ISagaGrain>($"transfer-{id}").StartWorkflow(SagaDefinitions.Transfer(id, alice, bob, 99m));

        Assert.Equal(SagaStatus.Completed, again.Status);
        Assert.Equal(90m, (await Account(alice).Get()).Balance);
    }
}
