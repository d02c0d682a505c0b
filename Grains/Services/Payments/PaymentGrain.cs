using Reliability.Infrastructure;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Payments;

/// <summary>The payment service: one record per payment, charged once, declined above the limit, refunded at most once.</summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class PaymentGrain : EventSourcedGrain<PaymentState>, IPaymentGrain
{
    public static readonly EventTypes EventTypes = new(typeof(PaymentCharged), typeof(PaymentDeclined), typeof(PaymentRefunded), typeof(PaymentVoided));

    protected override string StoreName => StoreNames.Payments;

    protected override string StreamPrefix => "payment";

    protected override EventTypes Types => EventTypes;

    protected override PaymentState Initial => PaymentState.Empty;

    protected override PaymentState Apply(PaymentState state, object @event, EventMeta meta) => PaymentState.Apply(state, @event);

    public Task<CommandResult> Charge(string commandId, string payer, string? payee, decimal amount, string reference) => ExecuteAsync(commandId, state =>
        state.Status == PaymentStatus.Voided ? Decision.Refuse("cancelled", $"payment {Id} was refunded before it was charged")
        : state.Status != PaymentStatus.None ? Decision.Refuse("already-charged", $"payment {Id} is already {state.Status}")
        : amount > IPaymentGrain.Limit ? Decision.Emit(new PaymentDeclined(payer, amount, reference, "limit-exceeded", $"{amount} is above the payment limit of {IPaymentGrain.Limit}"))
        : Decision.Emit(new PaymentCharged(payer, payee, amount, reference)));

    /// <summary>Refunds the charge if there is one; a payment never charged gets a tombstone, so that it cannot be charged later.</summary>
    public Task<CommandResult> Refund(string commandId) => ExecuteAsync(commandId, state => state.Status switch
    {
        PaymentStatus.Charged => Decision.Emit(new PaymentRefunded(state.Amount)),
        PaymentStatus.None => Decision.Emit(new PaymentVoided()),
        _ => Decision.NothingToDo,
    });

    public async Task<PaymentView> Get()
    {
        var state = await CurrentAsync();
        return new PaymentView(Id, state.Status, state.Payer, state.Payee, state.Amount, state.Reference, Version);
    }

    private string Id => this.GetPrimaryKeyString();
}
