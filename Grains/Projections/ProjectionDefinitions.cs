using System.Collections.Immutable;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services.Inventory;
using Reliability.Services.Payments;

namespace Reliability.Projections;

/// <summary>
/// A projection: the stores it reads, and for each event the view (by its own key, e.g. <c>order:42</c>)
/// that folds it, or null for an event it does not need.
/// </summary>
public sealed record ProjectionDefinition(
    string Name,
    ImmutableArray<string> Sources,
    Func<ProjectedEvent, object, string?> Route,
    Func<IGrainFactory, string, IProjectionViewGrain> View);

public static class ProjectionDefinitions
{
    private static readonly string OrderPaymentStream = $"payment-{SagaDefinitions.PaymentIdOfOrder("")}";

    /// <summary>Order summaries (and, through them, customers' orders): an order's own events, its reservations and its payment.</summary>
    public static ProjectionDefinition Orders { get; } = new(
        ProjectionNames.Orders,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        (meta, e) => OrderOf(meta, e) is { } order ? ViewKeys.OrderPrefix + order : null,
        (grains, key) => grains.GetGrain<IOrderSummaryViewGrain>(key));

    /// <summary>Account statements: every event of an account.</summary>
    public static ProjectionDefinition Statements { get; } = new(
        ProjectionNames.Statements,
        [StoreNames.Accounts],
        (meta, _) => ViewKeys.AccountPrefix + ProjectionEvents.EntityOf(meta.StreamId),
        (grains, key) => grains.GetGrain<IAccountStatementViewGrain>(key));

    /// <summary>Shop totals: one view that sees the order lifecycle, order payments and reservations.</summary>
    public static ProjectionDefinition Totals { get; } = new(
        ProjectionNames.Totals,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        (meta, e) => meta.Store switch
        {
            StoreNames.Orders => ViewKeys.TotalsKey,
            StoreNames.Inventory when e is StockReserved or StockReleased => ViewKeys.TotalsKey,
            StoreNames.Payments when e is PaymentCharged or PaymentRefunded && TotalsFold.IsOrderPayment(meta) => ViewKeys.TotalsKey,
            _ => null,
        },
        (grains, key) => grains.GetGrain<IShopTotalsViewGrain>(key));

    public static IReadOnlyList<ProjectionDefinition> All { get; } = [Orders, Statements, Totals];

    public static ProjectionDefinition? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>The order an event belongs to: its stream, its reservation id (<c>{order}:{sku}</c>), or its payment stream.</summary>
    public static string? OrderOf(ProjectedEvent meta, object e) => meta.Store switch
    {
        StoreNames.Orders => ProjectionEvents.EntityOf(meta.StreamId),
        StoreNames.Inventory => e switch
        {
            StockReserved r => OrderOfReservation(r.ReservationId),
            StockReleased r => OrderOfReservation(r.ReservationId),
            ReservationRejected r => OrderOfReservation(r.ReservationId),
            _ => null,
        },
        StoreNames.Payments when meta.StreamId.StartsWith(OrderPaymentStream, StringComparison.Ordinal) => meta.StreamId[OrderPaymentStream.Length..],
        _ => null,
    };

    private static string? OrderOfReservation(string reservationId)
    {
        var colon = reservationId.LastIndexOf(':');
        return colon > 0 ? reservationId[..colon] : null;
    }
}
