using Orleans.Concurrency;
using Reliability.Infrastructure;

namespace Reliability.Projections.BuiltIn;

/// <summary>
/// A customer's orders: the newest revision of each of the newest <see cref="CustomerOrders.MaxOrders"/>
/// order summaries (a customer with thousands of orders is not rewritten whole on every change). Upserts interleave and share writes
/// (group commit): each one changes the state in memory, then waits for a write that started after its
/// change, and at most one write is in flight. A customer with many orders in one batch of events is
/// written once or twice, not once per order, and every upsert still returns only once it is durable.
/// </summary>
[Reentrant]
[CollectionAgeLimit(Minutes = 5)]
public sealed class CustomerOrdersViewGrain(
    [PersistentState("view", StoreNames.Projections)] IPersistentState<CustomerOrders> state) : Grain, ICustomerOrdersViewGrain
{
    private Task _writing = Task.CompletedTask;
    private Task? _next;
    private Task _reloading = Task.CompletedTask;
    private Guid? _epoch;

    public async Task Upsert(OrderSummary summary, Guid epoch)
    {
        if (_epoch != epoch)
        {
            // The first upsert of a new runner epoch reads the row again (see IProjectionViewGrain.Apply); the
            // upserts that interleave with it wait for that read before they change anything.
            if (_epoch is not null)
            {
                _reloading = ReloadAsync();
            }

            _epoch = epoch;
        }

        await _reloading;
        await UpsertAsync(summary);
    }

    private Task UpsertAsync(OrderSummary summary)
    {
        var orders = state.State.Orders.IsDefault ? [] : state.State.Orders;
        var existing = orders.FirstOrDefault(o => o.OrderId == summary.OrderId);
        if (existing is not null && existing.Revision >= summary.Revision)
        {
            // Already held, but maybe only in memory: wait for whatever write is due.
            return _next ?? _writing;
        }

        var updated = (existing is null ? orders.Add(summary) : orders.Replace(existing, summary)).Sort(NewestFirst);
        if (updated.Length > CustomerOrders.MaxOrders)
        {
            updated = updated.RemoveRange(CustomerOrders.MaxOrders, updated.Length - CustomerOrders.MaxOrders);
        }

        state.State = new CustomerOrders(CustomerId, updated);
        return _next ??= WriteAfterAsync(_writing);
    }

    private async Task ReloadAsync()
    {
        try
        {
            await (_next ?? _writing);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Its callers saw the failure; the read below starts from what the row holds.
        }

        await state.ReadStateAsync();
    }

    public Task<CustomerOrders> Get() => Task.FromResult(new CustomerOrders(CustomerId, state.State.Orders.IsDefault ? [] : state.State.Orders));

    /// <summary>Waits for the write in flight, then writes everything changed so far.</summary>
    private async Task WriteAfterAsync(Task previous)
    {
        // Return to the caller first, so it publishes this task as the next write before anything below runs.
        await Task.Yield();
        try
        {
            await previous;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // That write's callers saw its failure; this one writes the state again, including their changes.
        }

        _next = null;
        var write = state.WriteStateAsync();
        _writing = write;
        try
        {
            await write;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Memory is now ahead of storage, or the ETag is unknown: start over from storage.
            this.DeactivateOnIdle();
            throw;
        }
    }

    private string CustomerId => ViewKey.Parse(this.GetPrimaryKeyString()).View.Id!;

    private static int NewestFirst(OrderSummary a, OrderSummary b)
    {
        var byTime = b.UpdatedAt.CompareTo(a.UpdatedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.OrderId, b.OrderId);
    }
}
