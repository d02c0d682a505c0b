using System.Collections.Immutable;
using Reliability.Infrastructure;
using Reliability.Services.Inventory;
using Reliability.Services.Payments;

namespace Reliability.Projections;

/// <summary>
/// A projection: the stores it reads, and for each event the view (by its own key, e.g. <c>order:42</c>)
/// that folds it, or null for an event it does not need. Routing looks at the event's store, stream and
/// type, and reads its payload only where the key is in it, so most events are deserialized once, by
/// their view.
/// </summary>
public sealed record ProjectionDefinition(
    string Name,
    ImmutableArray<string> Sources,
    Func<ProjectedEvent, string?> Route,
    Func<IGrainFactory, string, IProjectionViewGrain> View);

public static class ProjectionDefinitions
{
    /// <summary>Order summaries (and, through them, customers' orders): an order's own events, its reservations and its payment.</summary>
    public static ProjectionDefinition Orders { get; } = new(
        ProjectionNames.Orders,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        meta => OrderOf(meta) is { } order ? ViewKeys.OrderPrefix + order : null,
        (grains, key) => grains.GetGrain<IOrderSummaryViewGrain>(key));

    /// <summary>Account statements: every event of an account.</summary>
    public static ProjectionDefinition Statements { get; } = new(
        ProjectionNames.Statements,
        [StoreNames.Accounts],
        meta => ViewKeys.AccountPrefix + ProjectionEvents.EntityOf(meta.StreamId),
        (grains, key) => grains.GetGrain<IAccountStatementViewGrain>(key));

    /// <summary>Shop totals: one view that sees the order lifecycle, order payments and reservations.</summary>
    public static ProjectionDefinition Totals { get; } = new(
        ProjectionNames.Totals,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        meta => meta.Store switch
        {
            StoreNames.Orders => ViewKeys.TotalsKey,
            StoreNames.Inventory when meta.Type is nameof(StockReserved) or nameof(StockReleased) => ViewKeys.TotalsKey,
            StoreNames.Payments when meta.Type is nameof(PaymentCharged) or nameof(PaymentRefunded) && ProjectionEvents.IsOrderPayment(meta) => ViewKeys.TotalsKey,
            _ => null,
        },
        (grains, key) => grains.GetGrain<IShopTotalsViewGrain>(key));

    public static IReadOnlyList<ProjectionDefinition> All { get; } = [Orders, Statements, Totals];

    public static ProjectionDefinition? Find(string name) => All.FirstOrDefault(p => p.Name == name);

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
