using System.Collections.Immutable;
using Reliability.Services;

namespace Reliability.Sagas;

/// <summary>The two built-in workflows, built from their request.</summary>
public static class SagaDefinitions
{
    public const string PlaceOrderKind = "place-order";
    public const string TransferKind = "transfer";

    /// <summary>
    /// create order → reserve stock (one step per SKU) → charge payment → confirm order. A declined payment
    /// releases the stock and cancels the order, in that order. Charging is the pivot: confirming a pending
    /// order is then retried until it succeeds.
    /// </summary>
    public static SagaDefinition PlaceOrder(string orderId, string customerId, ImmutableArray<OrderLine> lines)
    {
        var total = lines.Sum(l => l.Amount);
        var payment = PaymentIdOfOrder(orderId);
        var steps = ImmutableArray.CreateBuilder<SagaStep>();
        steps.Add(new SagaStep("create-order", new CreateOrder(orderId, customerId, lines), new CancelOrder(orderId, "its saga was compensated")));
        foreach (var line in lines)
        {
            var reservation = $"{orderId}:{line.Sku}";
            steps.Add(new SagaStep("reserve-stock", new ReserveStock(line.Sku, reservation, line.Quantity), new ReleaseStock(line.Sku, reservation)));
        }

        steps.Add(new SagaStep("charge-payment", new ChargePayment(payment, customerId, "shop", total, orderId), new RefundPayment(payment)));
        steps.Add(new SagaStep("confirm-order", new ConfirmOrder(orderId), null));
        return new SagaDefinition(PlaceOrderKind, steps.ToImmutable());
    }

    /// <summary>
    /// debit A → record payment → credit B. A failed payment record refunds A. Recording the payment is the
    /// pivot: once it succeeded the credit is retried until it goes through (crediting an existing account
    /// cannot fail for a business reason), rather than taking back money B may already have spent.
    /// </summary>
    public static SagaDefinition Transfer(string transferId, string from, string to, decimal amount) => new(TransferKind,
    [
        new SagaStep("debit", new DebitAccount(from, amount, transferId), new RefundDebit(from)),
        new SagaStep("record-payment", new ChargePayment(transferId, from, to, amount, transferId), new RefundPayment(transferId)),
        new SagaStep("credit", new CreditAccount(to, amount, transferId), null),
    ]);

    public static string PaymentIdOfOrder(string orderId) => $"order-{orderId}";
}
