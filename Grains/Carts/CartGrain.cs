using Reliability.Infrastructure;

namespace Reliability.Carts;

/// <summary>
/// A persisted cart. An add carries the id of the operation that asked for it; an operation seen before
/// returns its line and changes nothing. This is what makes a retried request safe even when its first
/// attempt timed out after the item was added (the idempotency claim alone cannot know that).
/// </summary>
public sealed class CartGrain(
    [PersistentState("cart", StoreNames.Carts)] IPersistentState<CartState> state,
    TimeProvider time) : Grain, ICartGrain
{
    public async Task<AddItemResult> AddItem(string operationId, string sku, int quantity)
    {
        var items = state.State.Items;
        if (items.FirstOrDefault(i => i.OperationId == operationId) is { } earlier)
        {
            return new AddItemResult(earlier, Duplicate: true, items.Count);
        }

        if (items.Count >= CartRules.MaxItems)
        {
            return new AddItemResult(null, false, items.Count, $"the cart already holds {CartRules.MaxItems} items");
        }

        var item = new CartItem(operationId, sku, quantity, time.GetUtcNow());
        await state.WriteAsync(new CartState(items.Add(item)), GrainContext);
        return new AddItemResult(item, Duplicate: false, items.Count + 1);
    }

    public Task<CartView> Get() => Task.FromResult(new CartView(CartKeys.CartIdOf(this.GetPrimaryKeyString()), state.State.Items));
}
