using System.Collections.Immutable;

namespace Reliability.Services.Orders;

public sealed record OrderCreated(string CustomerId, ImmutableArray<OrderLine> Lines);

public sealed record OrderConfirmed;

public sealed record OrderCancelled(string Reason);

/// <summary>The tombstone of an order cancelled before it was created: the create is refused if it arrives after all.</summary>
public sealed record OrderVoided(string Reason);
