using System.Collections.Immutable;

namespace Reliability.RateLimiting;

/// <summary>All policies at one version of the registry.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.policy-set")]
public sealed record PolicySet(long Version, ImmutableDictionary<string, RateLimitPolicy> Policies)
{
    public static PolicySet Empty { get; } = new(0, ImmutableDictionary<string, RateLimitPolicy>.Empty.WithComparers(StringComparer.Ordinal));
}

/// <summary>The outcome of a change to the registry: applied (with the new version), rejected with field errors, or not found.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.policy-change")]
public sealed record PolicyChange(bool Succeeded, long Version, IReadOnlyList<FieldError> Errors, bool NotFound = false)
{
    public static PolicyChange Applied(long version) => new(true, version, []);
}
