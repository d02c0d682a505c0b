using Reliability.Infrastructure;
using Reliability.Services.Inventory;

namespace Reliability.Projections.BuiltIn;

/// <summary>
/// The <c>orders</c> projection: one order summary per order, joined across the order, inventory and
/// payment services, and through them each customer's orders: what it reads and how an event finds
/// its view. Its folds and view grains are beside it, in this folder.
/// </summary>
public static class OrdersProjection
{
    public static ProjectionDefinition Definition { get; } = new(
        ProjectionNames.Orders,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        meta => OrderOf(meta) is { } order ? ViewRef.Order(order) : null,
        (grains, key) => grains.GetGrain<IOrderSummaryViewGrain>(key.GrainKey))
    {
        Read = async (grains, key) => key.View.Kind switch
        {
            "order" => await grains.GetGrain<IOrderSummaryViewGrain>(key.GrainKey).Get(),
            "customer" => await grains.GetGrain<ICustomerOrdersViewGrain>(key.GrainKey).Get() is { Orders.Length: > 0 } orders ? orders : null,
            _ => null,
        },
    };

    /// <summary>
    /// The order an event belongs to: its stream, its reservation id (<c>{order}:{sku}</c>, the one case
    /// that reads the payload), or its payment stream.
    /// </summary>
    public static string? OrderOf(ProjectedEvent meta) => meta.Store switch
    {
        StoreNames.Orders => ProjectionEvents.EntityOf(meta.StreamId),
        StoreNames.Inventory when meta.Type is nameof(StockReserved) or nameof(StockReleased) or nameof(ReservationRejected) => ProjectionEvents.Deserialize(meta) switch
        {
            StockReserved r => OrderOfReservation(r.ReservationId),
            StockReleased r => OrderOfReservation(r.ReservationId),
            ReservationRejected r => OrderOfReservation(r.ReservationId),
            _ => null,
        },
        StoreNames.Payments when ProjectionEvents.IsOrderPayment(meta) => meta.StreamId[ProjectionEvents.OrderPaymentStream.Length..],
        _ => null,
    };

    private static string? OrderOfReservation(string reservationId)
    {
        var colon = reservationId.LastIndexOf(':');
        return colon > 0 ? reservationId[..colon] : null;
    }
}
