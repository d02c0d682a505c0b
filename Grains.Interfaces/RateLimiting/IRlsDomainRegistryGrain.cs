using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Reliability.RateLimiting;

/// <summary>
/// The rate-limit service's domains set through the admin API, as their YAML (one registry, key
/// <see cref="DefaultKey"/>). The silos poll <see cref="GetIfNewer"/>, as they do the policies, so a change
/// is in force everywhere within a second. The texts are checked by the silo that receives them.
/// </summary>
[Alias("ratelimit.rls-registry")]
public interface IRlsDomainRegistryGrain : IGrainWithStringKey
{
    const string DefaultKey = "default";

    /// <summary>Sets a domain's YAML and returns the new version.</summary>
    Task<long> Set(string domain, string yaml);

    /// <summary>Removes a domain; false when it was not set here.</summary>
    Task<bool> Remove(string domain);

    [AlwaysInterleave]
    Task<RlsDomainSet> GetAll();

    /// <summary>The domains if the registry is past <paramref name="knownVersion"/>, else null.</summary>
    [AlwaysInterleave]
    Task<RlsDomainSet?> GetIfNewer(long knownVersion);
}

/// <summary>Every domain set through the admin API, by name, as YAML text, at one version.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.rls-domain-set")]
public sealed record RlsDomainSet(long Version, ImmutableDictionary<string, string> Domains)
{
    public RlsDomainSet() : this(0, ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal))
    {
    }
}
