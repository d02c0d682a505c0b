using Reliability.Infrastructure;

namespace Reliability.Idempotency;

/// <summary>
/// How a client's key becomes a grain key: <c>scope:key</c>, the scope being the caller. Scopes start with
/// a letter that is not a hex digit, so they serve as the storage prefix of <see cref="StorageKeys"/>.
/// </summary>
public static class IdempotencyKeys
{
    public const int MaxKeyLength = 255;

    /// <summary>Callers without an API key share one scope.</summary>
    public const string PublicScope = "public";

    /// <summary>The scope of a caller: its API key (hashed), else the shared public scope.</summary>
    public static string ScopeOf(string? apiKey) => string.IsNullOrEmpty(apiKey) ? PublicScope : Callers.OfApiKey(apiKey);

    /// <summary><c>scope:key</c>, made safe for the ADO.NET storage (see <see cref="StorageKeys"/>).</summary>
    public static string GrainKey(string scope, string key) => StorageKeys.Of($"{scope}:", key);

    /// <summary>
    /// The id an effect dedupes on: the grain key and the claim. A retry that takes over the claim runs the
    /// same operation; the same key used again after its retention is a new one.
    /// </summary>
    public static string OperationId(string grainKey, string? claimId) => claimId is null ? grainKey : $"{grainKey}#{claimId}";

    public static IIdempotencyKeyGrain GetIdempotencyKey(this IGrainFactory grains, string scope, string key) =>
        grains.GetGrain<IIdempotencyKeyGrain>(GrainKey(scope, key));

    /// <summary>1 to 255 printable ASCII characters (space to tilde), as the Idempotency-Key header requires.</summary>
    public static FieldError? Check(string? key) => key switch
    {
        null or "" => new FieldError("Idempotency-Key", "the header is required on this endpoint: send a unique key per operation, and the same key when you retry it"),
        { Length: > MaxKeyLength } => new FieldError("Idempotency-Key", $"must be at most {MaxKeyLength} characters (got {key.Length})"),
        _ when key.Any(c => c is < ' ' or > '~') => new FieldError("Idempotency-Key", "must be printable ASCII (space to '~'); no control or non-ASCII characters"),
        _ => null,
    };
}
