using Microsoft.AspNetCore.Http.HttpResults;
using Reliability.Carts;

namespace Reliability.Silo.Http.Idempotency;

/// <summary>The textbook idempotent POST: add an item to a cart, exactly once per Idempotency-Key.</summary>
public static class CartEndpoints
{
    public sealed record AddItemBody(string? Sku, int? Quantity);

    public static WebApplication MapCarts(this WebApplication app)
    {
        var carts = app.MapGroup("/api/carts").WithTags("Carts");
        carts.MapPost("/{cartId}/items", AddItemAsync).RequireIdempotencyKey();
        carts.MapGet("/{cartId}", async Task<Results<Ok<CartView>, ProblemHttpResult>> (string cartId, IGrainFactory grains) =>
            CartRules.CheckCartId(cartId) is { } invalid ? Problems.BadRequest(invalid) : TypedResults.Ok(await grains.GetCart(cartId).Get()));
        return app;
    }

    private static async Task<IResult> AddItemAsync(string cartId, HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await JsonBody.ReadAsync<AddItemBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        if ((CartRules.CheckCartId(cartId) ?? CartRules.CheckSku(body!.Sku) ?? CartRules.CheckQuantity(body.Quantity)) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var operationId = http.IdempotentOperationId();
        var added = await grains.GetCart(cartId).AddItem(operationId, body!.Sku!, body.Quantity!.Value);
        return added.Rejected is { } why
            ? Problems.Create(StatusCodes.Status409Conflict, "cart-full", "The cart is full.", why)
            : TypedResults.Created($"/api/carts/{cartId}", new { cartId, item = added.Item, itemCount = added.ItemCount });
    }
}
