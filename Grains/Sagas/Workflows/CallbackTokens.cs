using System.Security.Cryptography;
using System.Text;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// The one-time tokens of callback steps: random, sent to the participant with the call, and kept only as a
/// hash in the saga's state, so reading the saga table does not let anyone complete its steps.
/// </summary>
public static class CallbackTokens
{
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool Matches(string? token, string? hash) =>
        token is { Length: > 0 } && hash is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(token)), Encoding.ASCII.GetBytes(hash));
}
