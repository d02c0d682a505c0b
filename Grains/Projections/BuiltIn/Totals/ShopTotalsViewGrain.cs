using Reliability.Infrastructure;

namespace Reliability.Projections.BuiltIn;

/// <summary>Totals over the whole shop: sees every event of its stores in order, so it keeps one cursor per store.</summary>
[CollectionAgeLimit(Minutes = 5)]
public sealed class ShopTotalsViewGrain(
    [PersistentState("view", StoreNames.Projections)] IPersistentState<ViewState<ShopTotals>> state)
    : ProjectionViewGrain<ShopTotals>(state), IShopTotalsViewGrain
{
    protected override bool OrderedByStore => true;

    protected override ShopTotals Initial() => TotalsFold.Empty;

    protected override ShopTotals Fold(ShopTotals view, object @event, ProjectedEvent meta) => TotalsFold.Apply(view, @event, meta);

    public Task<ShopTotals> Get() => Task.FromResult(View ?? TotalsFold.Empty);
}
