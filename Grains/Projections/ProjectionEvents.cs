using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services.Accounts;
using Reliability.Services.EventSourcing;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Projections;

/// <summary>Turns a projected event back into its service's event type.</summary>
public static class ProjectionEvents
{
    private static readonly Dictionary<string, EventTypes> ByStore = new(StringComparer.Ordinal)
    {
        [StoreNames.Orders] = OrderGrain.EventTypes,
        [StoreNames.Inventory] = InventoryGrain.EventTypes,
        [StoreNames.Payments] = PaymentGrain.EventTypes,
        [StoreNames.Accounts] = AccountGrain.EventTypes,
    };

    public static object Deserialize(ProjectedEvent e) =>
        ByStore.TryGetValue(e.Store, out var types) ? types.Deserialize(e.Type, e.Payload) : throw new InvalidDataException($"Unknown store '{e.Store}'.");

    /// <summary>The id after a stream's prefix: "order-42" → "42".</summary>
    public static string EntityOf(string streamId) => streamId[(streamId.IndexOf('-') + 1)..];

    /// <summary>The stream prefix of the payments that orders make (the rest of the stream id is the order id).</summary>
    public static readonly string OrderPaymentStream = $"payment-{SagaDefinitions.PaymentIdOfOrder("")}";

    /// <summary>A payment made by an order, rather than one recorded for a transfer.</summary>
    public static bool IsOrderPayment(ProjectedEvent meta) => meta.StreamId.StartsWith(OrderPaymentStream, StringComparison.Ordinal);
}
