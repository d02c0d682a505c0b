namespace Reliability.Silo.Http.Idempotency;

/// <summary>What the idempotency filter hands the handler it guards: the operation its effect must be keyed by.</summary>
public interface IIdempotencyFeature
{
    /// <summary>The key and its claim (<c>scope:key#claim</c>): the same for every retry of one request, new for a new request under the key.</summary>
    string OperationId { get; }
}

/// <summary>The one way to put the Idempotency-Key contract on a route, and to read what it gives the handler.</summary>
public static class IdempotencyRouting
{
    /// <summary>The route needs an Idempotency-Key: the claim is durable before the handler runs, and its response is stored and replayed.</summary>
    public static TBuilder RequireIdempotencyKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, IdempotencyFilter>();

    /// <summary>The operation id of a request on a route that <see cref="RequireIdempotencyKey"/> guards.</summary>
    public static string IdempotentOperationId(this HttpContext http) =>
        http.Features.Get<IIdempotencyFeature>()?.OperationId
        ?? throw new InvalidOperationException("This endpoint is not guarded by RequireIdempotencyKey().");

    internal sealed record Feature(string OperationId) : IIdempotencyFeature;
}
