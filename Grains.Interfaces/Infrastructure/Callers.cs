using System.Security.Cryptography;
using System.Text;

namespace Reliability;

/// <summary>Who is calling the HTTP API, as used in grain keys: never the API key itself, so no secret reaches grain ids, the dashboard or logs.</summary>
public static class Callers
{
    /// <summary><c>key-</c> and the first 16 hex digits of the key's SHA-256.</summary>
    public static string OfApiKey(string apiKey) =>
        "key-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)))[..16].ToLowerInvariant();
}
