namespace Reliability.Silo.Http.Idempotency;

/// <summary>
/// Exactly-once endpoints of our own (<see cref="IdempotencyRouting.RequireIdempotencyKey"/>): the
/// <see cref="IdempotencyGuard"/> contract around an endpoint handler. The handler's result is executed into
/// a detached context that is never aborted, so a client that gives up mid-request (a timeout, a closed tab)
/// cannot turn the answer every retry replays into an empty body.
/// What is stored: 2xx, 3xx and 5xx other than 503. Not stored (the key is released and a retry runs
/// again): 4xx (validation, nothing happened), 503 and unhandled exceptions. A released key can be rerun
/// safely because the handler passes its operation id (<see cref="IdempotencyRouting.IdempotentOperationId"/>)
/// down to the effect, which applies an operation once (see CartGrain): the claim stops concurrent
/// duplicates, the operation id makes the effect itself exactly-once when a first attempt's fate is unknown.
/// </summary>
public sealed class IdempotencyFilter(IdempotencyGuard guard) : IEndpointFilter
{
    private static readonly IdempotencyContract Contract = new(
        Target: "",
        ScopeHeader: null,
        Stores: status => status is < 400 or (>= 500 and not StatusCodes.Status503ServiceUnavailable),
        KeptHeaders: ["Location"],
        MaxStoredBodyBytes: long.MaxValue);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await guard.RunAsync(context.HttpContext, Contract, async operationId =>
        {
            context.HttpContext.Features.Set<IIdempotencyFeature>(new IdempotencyRouting.Feature(operationId));
            var result = await next(context);
            return await CaptureAsync(context.HttpContext, result as IResult ?? TypedResults.Ok(result));
        });

    /// <summary>Executes a result into memory, with the request's services but not its abort token.</summary>
    private static async Task<CapturedResponse> CaptureAsync(HttpContext http, IResult result)
    {
        using var body = new MemoryStream();
        var detached = new DefaultHttpContext { RequestServices = http.RequestServices };
        detached.Request.Method = http.Request.Method;
        detached.Request.Scheme = http.Request.Scheme;
        detached.Request.Host = http.Request.Host;
        detached.Request.PathBase = http.Request.PathBase;
        detached.Request.Path = http.Request.Path;
        foreach (var (name, value) in http.Request.Headers)
        {
            detached.Request.Headers[name] = value;
        }

        detached.Response.Body = body;
        await result.ExecuteAsync(detached);
        await detached.Response.Body.FlushAsync();
        return new CapturedResponse(detached.Response.StatusCode, detached.Response.ContentType, new HeaderDictionary(detached.Response.Headers.ToDictionary()), body.ToArray());
    }
}
