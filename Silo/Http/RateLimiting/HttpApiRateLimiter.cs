using Microsoft.Extensions.Options;
using Reliability.RateLimiting;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http.RateLimiting;

/// <summary>
/// Limits every /api request per caller with the policy <c>Http:RateLimitPolicy</c>: the caller is its
/// API key (hashed, so no key ends up in grain ids, the dashboard or logs) or else its address. A leaking
/// bucket policy shapes: the request waits for its turn. If the limiter itself cannot answer, the request
/// goes through: the limit protects the API, it must not become its outage.
/// </summary>
public sealed class HttpApiRateLimiter(RequestDelegate next, IGrainFactory grains, IOptions<HttpApiOptions> options, ILogger<HttpApiRateLimiter> logger)
{
    private static readonly TimeSpan MaxShapingDelay = TimeSpan.FromSeconds(5);

    /// <summary>The same check for every request (the policy is fixed for the process), or null when the limit is off.</summary>
    private readonly RateLimitRequest? _request = string.IsNullOrEmpty(options.Value.RateLimitPolicy) ? null : new RateLimitRequest([options.Value.RateLimitPolicy]);

    public async Task InvokeAsync(HttpContext http)
    {
        if (_request is null)
        {
            await next(http);
            return;
        }

        var subject = CallerOf(http);
        RateLimitDecision decision;
        try
        {
            decision = await grains.GetRateLimiter(subject).Check(_request);
        }
        catch (Exception ex) when (ErrorHandling.IsUnavailable(ex))
        {
            logger.LogWarning("API rate limit skipped: the limiter did not answer ({Reason})", ex.Message);
            await next(http);
            return;
        }

        if (decision.Problem is not null || decision.Allowed)
        {
            if (decision.Delay > TimeSpan.Zero)
            {
                await Task.Delay(decision.Delay < MaxShapingDelay ? decision.Delay : MaxShapingDelay, http.RequestAborted);
            }

            await next(http);
            return;
        }

        await RateLimitEndpoints.Respond(http, subject, decision).ExecuteAsync(http);
    }

    /// <summary>The key a caller presents, else its address.</summary>
    public string CallerOf(HttpContext http)
    {
        var key = http.Request.Headers[options.Value.ApiKeyHeader].ToString();
        return string.IsNullOrEmpty(key)
            ? "ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown")
            : Callers.OfApiKey(key);
    }
}
