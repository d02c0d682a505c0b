using Orleans.Concurrency;
using Reliability.Infrastructure;
using Reliability.Services;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Projections.BuiltIn;

/// <summary>
/// The <c>orders</c> projection: one order summary per order, joined across the order, inventory and
/// payment services, and through them each customer's orders. Everything about it is in this file:
/// what it reads, how an event finds its view, the folds and the view grains.
/// </summary>
public static class OrdersProjection
{
    public static ProjectionDefinition Definition { get; } = new(
        ProjectionNames.Orders,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        meta => OrderOf(meta) is { } order ? ViewRef.Order(order) : null,
        (grains, key) => grains.GetGrain<IOrderSummaryViewGrain>(key.GrainKey));

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

/// <summary>An order joined from its order, stock and payment events. Pure: the view after one more event.</summary>
public static class OrderSummaryFold
{
    public static OrderSummary Empty(string orderId) =>
        new(orderId, null, OrderStatus.None, [], 0, PaymentStatus.None, [], 0, DateTimeOffset.MinValue);

    public static OrderSummary Apply(OrderSummary view, object @event, ProjectedEvent meta)
    {
        var next = @event switch
        {
            OrderCreated created => created.Lines.IsDefaultOrEmpty
                ? throw new InvalidDataException($"OrderCreated at {meta.Store}:{meta.Position} has no lines.")
                : view with { CustomerId = created.CustomerId, Lines = created.Lines, Total = created.Lines.Sum(l => l.Amount), Status = Later(view.Status, OrderStatus.Pending) },
            OrderConfirmed => view with { Status = OrderStatus.Confirmed },
            OrderCancelled => view with { Status = OrderStatus.Cancelled },
            OrderVoided => view with { Status = Later(view.Status, OrderStatus.Voided) },
            StockReserved reserved => Reserve(view, meta, reserved.Quantity, ReservationState.Reserved),
            StockReleased released => Reserve(view, meta, released.Quantity, ReservationState.Released),
            ReservationRejected rejected => Reserve(view, meta, rejected.Quantity, ReservationState.Rejected),
            PaymentCharged => view with { Payment = PaymentStatus.Charged },
            PaymentDeclined => view with { Payment = PaymentStatus.Declined },
            PaymentRefunded => view with { Payment = PaymentStatus.Refunded },
            _ => view,
        };
        // The newest event's time, whatever order the three stores' events arrived in, so a rebuild gives the same view.
        return next with { Revision = view.Revision + 1, UpdatedAt = meta.RecordedAt > view.UpdatedAt ? meta.RecordedAt : view.UpdatedAt };
    }

    /// <summary>Events of different services may arrive in any order: a later status is never overwritten by Pending.</summary>
    private static OrderStatus Later(OrderStatus current, OrderStatus incoming) => current == OrderStatus.None ? incoming : current;

    private static OrderSummary Reserve(OrderSummary view, ProjectedEvent meta, int quantity, ReservationState state)
    {
        var sku = ProjectionEvents.EntityOf(meta.StreamId);
        return view with { Reservations = view.Reservations.RemoveAll(r => r.Sku == sku).Add(new ReservationView(sku, quantity, state)) };
    }
}

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
