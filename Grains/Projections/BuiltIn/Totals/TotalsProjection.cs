using Reliability.Infrastructure;
using Reliability.Services.Inventory;
using Reliability.Services.Payments;

namespace Reliability.Projections.BuiltIn;

/// <summary>The <c>totals</c> projection: one view that sees the order lifecycle, order payments and reservations.</summary>
public static class TotalsProjection
{
    public static ProjectionDefinition Definition { get; } = new(
        ProjectionNames.Totals,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        meta => meta.Store switch
        {
            StoreNames.Orders => ViewRef.Single,
            StoreNames.Inventory when meta.Type is nameof(StockReserved) or nameof(StockReleased) => ViewRef.Single,
            StoreNames.Payments when meta.Type is nameof(PaymentCharged) or nameof(PaymentRefunded) && ProjectionEvents.IsOrderPayment(meta) => ViewRef.Single,
            _ => null,
        },
        (grains, key) => grains.GetGrain<IShopTotalsViewGrain>(key.GrainKey))
    {
        Read = async (grains, key) => key.View == ViewRef.Single ? await grains.GetGrain<IShopTotalsViewGrain>(key.GrainKey).Get() : null,
    };
}
