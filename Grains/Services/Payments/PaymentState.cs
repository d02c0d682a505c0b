namespace Reliability.Services.Payments;

/// <summary>A payment record as the fold of its events.</summary>
public sealed record PaymentState(PaymentStatus Status, string? Payer, string? Payee, decimal Amount, string? Reference)
{
    public static PaymentState Empty { get; } = new(PaymentStatus.None, null, null, 0, null);

    public static PaymentState Apply(PaymentState state, object @event) => @event switch
    {
        PaymentCharged charged => new PaymentState(PaymentStatus.Charged, charged.Payer, charged.Payee, charged.Amount, charged.Reference),
        PaymentDeclined declined => state.Status == PaymentStatus.None
            ? new PaymentState(PaymentStatus.Declined, declined.Payer, null, declined.Amount, declined.Reference)
            : state,
        PaymentRefunded => state with { Status = PaymentStatus.Refunded },
        PaymentVoided => state.Status == PaymentStatus.None ? state with { Status = PaymentStatus.Voided } : state,
        _ => state,
    };
}
