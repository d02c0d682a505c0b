using System.Collections.Immutable;
using System.Text.Json;
using Reliability.Services;

namespace Reliability.Sagas;

/// <summary>
/// The two built-in workflows, started from their request. Their steps are workflow definitions like any
/// registered one (the silo's <c>Grains/Sagas/BuiltIn/*.json</c>), whose steps call the services in this
/// cluster; these build their input.
/// </summary>
public static class SagaDefinitions
{
    public const string PlaceOrderKind = "place-order";
    public const string TransferKind = "transfer";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// create order → reserve stock (one step per SKU) → charge payment → confirm order. A declined payment
    /// releases the stock and cancels the order, in that order. Charging is the pivot: confirming a pending
    /// order is then retried until it succeeds.
    /// </summary>
    public static WorkflowStart PlaceOrder(string orderId, string customerId, ImmutableArray<OrderLine> lines) => new(PlaceOrderKind, JsonSerializer.Serialize(new
    {
        orderId,
        customerId,
        lines = lines.Select(l => new { sku = l.Sku, quantity = l.Quantity, unitPrice = l.UnitPrice }),
        total = lines.Sum(l => l.Amount),
        paymentId = PaymentIdOfOrder(orderId),
    }, Json));

    /// <summary>
    /// debit A → record payment → credit B. A failed payment record refunds A. Recording the payment is the
    /// pivot: once it succeeded the credit is retried until it goes through (crediting an existing account
    /// cannot fail for a business reason), rather than taking back money B may already have spent.
    /// </summary>
    public static WorkflowStart Transfer(string transferId, string from, string to, decimal amount) =>
        new(TransferKind, JsonSerializer.Serialize(new { transferId, from, to, amount }, Json));

    public static string PaymentIdOfOrder(string orderId) => $"order-{orderId}";
}
