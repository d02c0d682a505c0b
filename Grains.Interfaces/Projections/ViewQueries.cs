using System.Collections.Immutable;

namespace Reliability.Projections;

/// <summary>
/// Reading a view: ask the projection's runner which generation is live and whether it has applied the
/// caller's tokens (waiting up to <c>wait</c>), then read that generation's view grain. The answer says
/// if it may not include the caller's writes yet (stale) and if a rebuild is in progress.
/// </summary>
public static class ViewQueries
{
    /// <summary>The longest wait a query may ask for.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    public static Task<ViewRead<OrderSummary>> ReadOrderSummaryAsync(this IGrainFactory grains, string orderId, ImmutableArray<ConsistencyToken> after, TimeSpan wait) =>
        grains.ReadAsync(ProjectionNames.Orders, after, wait,
            generation => grains.GetGrain<IOrderSummaryViewGrain>(new ViewKey(ProjectionNames.Orders, generation, ViewRef.Order(orderId)).GrainKey).Get());

    public static Task<ViewRead<CustomerOrders>> ReadCustomerOrdersAsync(this IGrainFactory grains, string customerId, ImmutableArray<ConsistencyToken> after, TimeSpan wait) =>
        grains.ReadAsync(ProjectionNames.Orders, after, wait,
            async generation => (CustomerOrders?)await grains.GetGrain<ICustomerOrdersViewGrain>(new ViewKey(ProjectionNames.Orders, generation, ViewRef.Customer(customerId)).GrainKey).Get());

    public static Task<ViewRead<AccountStatement>> ReadStatementAsync(this IGrainFactory grains, string accountId, ImmutableArray<ConsistencyToken> after, TimeSpan wait) =>
        grains.ReadAsync(ProjectionNames.Statements, after, wait,
            generation => grains.GetGrain<IAccountStatementViewGrain>(new ViewKey(ProjectionNames.Statements, generation, ViewRef.Account(accountId)).GrainKey).Get());

    public static Task<ViewRead<ShopTotals>> ReadTotalsAsync(this IGrainFactory grains, ImmutableArray<ConsistencyToken> after, TimeSpan wait) =>
        grains.ReadAsync(ProjectionNames.Totals, after, wait,
            async generation => (ShopTotals?)await grains.GetGrain<IShopTotalsViewGrain>(new ViewKey(ProjectionNames.Totals, generation, ViewRef.Single).GrainKey).Get());

    /// <summary>One view of a JavaScript projection, by its partition key (the script's <c>partitionBy</c>), with the generation it came from.</summary>
    public static async Task<(ViewRead<ScriptView> Read, int Generation)> ReadScriptViewAsync(this IGrainFactory grains, string projection, string key, ImmutableArray<ConsistencyToken> after, TimeSpan wait)
    {
        var generation = 0;
        var read = await grains.ReadAsync(projection, after, wait, g =>
        {
            generation = g;
            return grains.GetGrain<IScriptViewGrain>(new ViewKey(projection, g, ViewRef.Partition(key)).GrainKey).Get();
        });
        return (read, generation);
    }

    /// <summary>Reads a view of any projection: <paramref name="read"/> gets the generation to read.</summary>
    public static async Task<ViewRead<T>> ReadAsync<T>(this IGrainFactory grains, string projection, ImmutableArray<ConsistencyToken> after, TimeSpan wait, Func<int, Task<T?>> read)
        where T : class
    {
        var runner = grains.GetGrain<IProjectionRunnerGrain>(projection);
        var tokens = after.IsDefault ? [] : after;
        var remaining = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ViewCheck check;
        do
        {
            // The runner waits at most a couple of seconds per call, so a long wait is several calls (and survives the runner moving).
            check = await runner.Check(tokens, remaining - clock.Elapsed);
        }
        while (!check.Applied && clock.Elapsed < remaining);

        return new ViewRead<T>(await read(check.Generation), !check.Applied, check.Rebuilding);
    }
}
