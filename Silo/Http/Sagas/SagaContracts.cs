namespace Reliability.Silo.Http.Sagas;

public sealed record OrderItemBody(string? Sku, int? Quantity);

/// <summary><c>POST /api/orders</c></summary>
public sealed record PlaceOrderBody(string? CustomerId, OrderItemBody[]? Items);

/// <summary><c>POST /api/transfers</c>; <c>amount</c> with at most two decimal places.</summary>
public sealed record TransferBody(string? From, string? To, decimal? Amount);

/// <summary><c>PUT /api/admin/accounts/{id}</c>: opens an account with a balance.</summary>
public sealed record OpenAccountBody(decimal? Balance);

/// <summary><c>POST /api/admin/inventory/{sku}/restock</c></summary>
public sealed record RestockBody(int? Quantity, decimal? UnitPrice);

/// <summary><c>POST /api/admin/sagas/{id}/cancel</c></summary>
public sealed record CancelBody(string? Reason);

/// <summary><c>POST /api/sagas/{id}/steps/{step}/complete</c>: how a participant's accepted call ended; <c>body</c> is kept for later templates.</summary>
public sealed record CompleteStepBody(string? Token, string? Outcome, System.Text.Json.JsonElement? Body, string? Reason);
