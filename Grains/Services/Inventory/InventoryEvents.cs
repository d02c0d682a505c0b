using Reliability.Services.EventSourcing;

namespace Reliability.Services.Inventory;

public sealed record StockAdded(int Quantity, decimal UnitPrice);

public sealed record StockReserved(string ReservationId, int Quantity);

public sealed record ReservationRejected(string ReservationId, int Quantity, string Code, string Message) : IRejection;

public sealed record StockReleased(string ReservationId, int Quantity);

/// <summary>The tombstone of a reservation released before it was made: the reservation is refused if it arrives after all.</summary>
public sealed record ReservationVoided(string ReservationId);
