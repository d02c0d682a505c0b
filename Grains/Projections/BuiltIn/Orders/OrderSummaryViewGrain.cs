using Reliability.Infrastructure;

namespace Reliability.Projections.BuiltIn;

/// <summary>One order, joined across three services; passes itself on to its customer's view after each batch.</summary>
[CollectionAgeLimit(Minutes = 5)]
public sealed class OrderSummaryViewGrain(
    [PersistentState("view", StoreNames.Projections)] IPersistentState<ViewState<OrderSummary>> state)
    : ProjectionViewGrain<OrderSummary>(state), IOrderSummaryViewGrain
{
    protected override OrderSummary Initial() => OrderSummaryFold.Empty(OrderId);

    protected override OrderSummary Fold(OrderSummary view, object @event, ProjectedEvent meta) => OrderSummaryFold.Apply(view, @event, meta);

    protected override Task AfterApplyAsync() => View is { CustomerId: { } customer } summary
        ? GrainFactory.GetGrain<ICustomerOrdersViewGrain>(CustomerKey(customer)).Upsert(summary, Epoch)
        : Task.CompletedTask;

    public Task<OrderSummary?> Get() => Task.FromResult(View);

    private string OrderId => ViewKey.Parse(this.GetPrimaryKeyString()).View.Id!;

    private string CustomerKey(string customer) => ViewKey.Parse(this.GetPrimaryKeyString()).Sibling(ViewRef.Customer(customer)).GrainKey;
}
