using System.Collections.Immutable;
using Reliability.Infrastructure;

namespace Reliability.Carts;

/// <summary>One line of a cart, with the operation that added it (the idempotency scope and key).</summary>
[GenerateSerializer, Immutable, Alias("carts.item")]
public sealed record CartItem(string OperationId, string Sku, int Quantity, DateTimeOffset AddedAt);

[GenerateSerializer, Immutable, Alias("carts.view")]
public sealed record CartView(string CartId, ImmutableList<CartItem> Items)
{
    public int TotalQuantity => Items.Sum(i => i.Quantity);
}

/// <summary>The added line; <see cref="Duplicate"/> when this operation had already added it (nothing changed); or why not.</summary>
[GenerateSerializer, Immutable, Alias("carts.add-result")]
public sealed record AddItemResult(CartItem? Item, bool Duplicate, int ItemCount, string? Rejected = null);

/// <summary>Cart ids, SKUs and quantities the API accepts.</summary>
public static class CartRules
{
    public const int MaxItems = 500;
    public const int MaxQuantity = 1_000;

    public static FieldError? CheckCartId(string? cartId) => Ids.Check(cartId, "cartId");

    public static FieldError? CheckSku(string? sku) => Ids.Check(sku, "sku");

    public static FieldError? CheckQuantity(int? quantity) =>
        quantity is null or < 1 or > MaxQuantity ? new FieldError("quantity", $"must be a whole number from 1 to {MaxQuantity} (got {quantity?.ToString() ?? "nothing"})") : null;
}

/// <summary>A cart (grain key <c>cart:id</c>). Adding an item is keyed by its operation: the same operation adds once.</summary>
[Alias("carts.cart")]
public interface ICartGrain : IGrainWithStringKey
{
    Task<AddItemResult> AddItem(string operationId, string sku, int quantity);

    Task<CartView> Get();
}

public static class CartKeys
{
    public const string Prefix = "cart:";

    public static ICartGrain GetCart(this IGrainFactory grains, string cartId) => grains.GetGrain<ICartGrain>(StorageKeys.Of(Prefix, cartId));

    public static string CartIdOf(string grainKey) => StorageKeys.IdOf(Prefix, grainKey);
}
