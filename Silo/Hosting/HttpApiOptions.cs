using Reliability.Infrastructure;

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

    /// <summary>Largest total size of a request's headers, in bytes; larger ones get 431.</summary>
    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    public void Validate()
    {
        StartupException.Require(MaxRequestBodyBytes is >= 1024 and <= 1024 * 1024 * 1024,
            $"Http:MaxRequestBodyBytes must be 1024 to 1073741824 bytes, not {MaxRequestBodyBytes}.");
        StartupException.Require(MaxRequestHeadersTotalBytes is >= 4 * 1024 and <= 1024 * 1024,
            $"Http:MaxRequestHeadersTotalBytes must be 4096 to 1048576 bytes, not {MaxRequestHeadersTotalBytes}.");
    }
}
