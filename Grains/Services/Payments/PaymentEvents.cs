using Reliability.Services.EventSourcing;

namespace Reliability.Services.Payments;

public sealed record PaymentCharged(string Payer, string? Payee, decimal Amount, string Reference);

public sealed record PaymentDeclined(string Payer, decimal Amount, string Reference, string Code, string Message) : IRejection;

public sealed record PaymentRefunded(decimal Amount);
