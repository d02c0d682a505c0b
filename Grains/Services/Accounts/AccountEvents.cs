using Reliability.Services.EventSourcing;

namespace Reliability.Services.Accounts;

public sealed record AccountOpened(decimal InitialBalance);

public sealed record AccountDebited(decimal Amount, string Reference);

public sealed record AccountCredited(decimal Amount, string Reference);

/// <summary>A debit refused (insufficient funds), kept so that a retry of the command is refused the same way.</summary>
public sealed record DebitRejected(decimal Amount, string Reference, string Code, string Message) : IRejection;

/// <summary>A debit given back by its compensation.</summary>
public sealed record DebitRefunded(string DebitCommandId, decimal Amount);

/// <summary>
/// The tombstone of a debit whose compensation ran before it (it had not arrived, or never will): the
/// debit is refused if it arrives after all, say from a silo that was paused and declared dead.
/// </summary>
public sealed record DebitVoided(string DebitCommandId);
