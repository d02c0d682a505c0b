using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Services;

namespace Reliability.Sagas;

/// <summary>Runs one saga command on its participant service and says how it went.</summary>
public interface IParticipantGateway
{
    /// <summary>
    /// Runs <paramref name="command"/> of step <paramref name="stepName"/>. <paramref name="commandId"/> is what
    /// the participant dedupes on; for a compensation, <paramref name="actionCommandId"/> names the action it undoes.
    /// </summary>
    Task<StepOutcome> ExecuteAsync(string stepName, SagaCommand command, string commandId, string actionCommandId, CancellationToken cancellationToken);
}

/// <summary>
/// Calls the participant grains, with the faults configured under <c>Sagas:Faults</c> injected first.
/// Exceptions (timeouts, unavailable silos or databases) are left to the caller: they are transient.
/// </summary>
public sealed class ParticipantGateway(IGrainFactory grains, IOptions<SagaOptions> options, FaultDice dice) : IParticipantGateway
{
    public async Task<StepOutcome> ExecuteAsync(string stepName, SagaCommand command, string commandId, string actionCommandId, CancellationToken cancellationToken)
    {
        var compensation = commandId != actionCommandId;
        // A step repeated per item (reserve-stock[1]) takes the faults of its name.
        options.Value.Faults.TryGetValue(stepName.Split('[')[0], out var faults);
        if (faults is not null && !compensation)
        {
            if (faults.Delay > TimeSpan.Zero)
            {
                await Task.Delay(faults.Delay, cancellationToken);
            }

            if (dice.Roll(faults.RejectProbability))
            {
                return new StepOutcome(StepOutcomeKind.Rejected, $"injected-rejection: {stepName} refused by configuration");
            }
        }

        var transient = faults is not null && dice.Roll(compensation ? faults.CompensationTransientProbability : faults.TransientProbability);
        var afterCall = transient && dice.Roll(0.5);
        if (transient && !afterCall)
        {
            throw new InjectedFaultException($"{stepName}: injected failure before the call");
        }

        var result = await DispatchAsync(command, commandId, actionCommandId);
        if (afterCall || (faults is not null && !compensation && dice.Roll(faults.LostAnswerProbability)))
        {
            throw new InjectedFaultException($"{stepName}: injected failure after the call (its answer is lost)");
        }

        var token = result.Position > 0 ? new ConsistencyToken(StoreOf(command), result.Position).ToString() : null;
        return result.Succeeded
            ? new StepOutcome(StepOutcomeKind.Succeeded, null, token)
            : new StepOutcome(StepOutcomeKind.Rejected, $"{result.Code}: {result.Message}", token);
    }

    /// <summary>The event store of the service a command goes to.</summary>
    public static string StoreOf(SagaCommand command) => command switch
    {
        CreateOrder or CancelOrder or ConfirmOrder => StoreNames.Orders,
        ReserveStock or ReleaseStock => StoreNames.Inventory,
        ChargePayment or RefundPayment => StoreNames.Payments,
        DebitAccount or RefundDebit or CreditAccount => StoreNames.Accounts,
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown saga command."),
    };

    private Task<CommandResult> DispatchAsync(SagaCommand command, string commandId, string actionCommandId) => command switch
    {
        CreateOrder c => grains.GetGrain<IOrderGrain>(c.OrderId).Create(commandId, c.CustomerId, c.Lines),
        CancelOrder c => grains.GetGrain<IOrderGrain>(c.OrderId).Cancel(commandId, c.Reason),
        ConfirmOrder c => grains.GetGrain<IOrderGrain>(c.OrderId).Confirm(commandId),
        ReserveStock c => grains.GetGrain<IInventoryGrain>(c.Sku).Reserve(commandId, c.ReservationId, c.Quantity),
        ReleaseStock c => grains.GetGrain<IInventoryGrain>(c.Sku).Release(commandId, c.ReservationId),
        ChargePayment c => grains.GetGrain<IPaymentGrain>(c.PaymentId).Charge(commandId, c.Payer, c.Payee, c.Amount, c.Reference),
        RefundPayment c => grains.GetGrain<IPaymentGrain>(c.PaymentId).Refund(commandId),
        DebitAccount c => grains.GetGrain<IAccountGrain>(c.AccountId).Debit(commandId, c.Amount, c.Reference),
        RefundDebit c => grains.GetGrain<IAccountGrain>(c.AccountId).RefundDebit(commandId, actionCommandId),
        CreditAccount c => grains.GetGrain<IAccountGrain>(c.AccountId).Credit(commandId, c.Amount, c.Reference),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown saga command."),
    };
}

/// <summary>A fault injected by configuration: behaves like any transient failure.</summary>
public sealed class InjectedFaultException(string message) : Exception(message);

/// <summary>The randomness of fault injection and retry jitter; tests give it a seed.</summary>
public sealed class FaultDice(int? seed = null)
{
    private readonly Random _random = seed is { } s ? new Random(s) : Random.Shared;
    private readonly Lock _gate = new();

    public double Next()
    {
        lock (_gate)
        {
            return _random.NextDouble();
        }
    }

    public bool Roll(double probability) => probability > 0 && Next() < probability;
}
