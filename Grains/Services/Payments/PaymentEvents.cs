using Reliability.Services.EventSourcing;

namespace Reliability.Services.Payments;

public sealed record PaymentCharged(string Payer, string? Payee, decimal Amount, string Reference);

public sealed record PaymentDeclined(string Payer, decimal Amount, string Reference, string Code, string Message) : IRejection;

public sealed record PaymentRefunded(decimal Amount);

/// <summary>The tombstone of a payment refunded before it was charged: the charge is refused if it arrives after all.</summary>
public sealed record PaymentVoided;
