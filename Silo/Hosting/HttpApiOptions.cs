namespace Reliability.Silo.Hosting;

/// <summary>Limits of the HTTP API (section <c>Http</c>).</summary>
public sealed class HttpApiOptions
{
    /// <summary>The rate-limit policy that limits each caller of /api (per API key, else per client address); empty turns it off.</summary>
    public string RateLimitPolicy { get; set; } = "http-api";

    /// <summary>The header that names a caller's API key.</summary>
    public string ApiKeyHeader { get; set; } = "X-Api-Key";

    /// <summary>Largest request body accepted, in bytes; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;
}
