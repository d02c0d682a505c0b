using System.Collections.Immutable;

namespace Reliability.Services.Orders;

public sealed record OrderCreated(string CustomerId, ImmutableArray<OrderLine> Lines);

public sealed record OrderConfirmed;

public sealed record OrderCancelled(string Reason);
