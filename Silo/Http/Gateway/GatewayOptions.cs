using Reliability.Infrastructure;

namespace Reliability.Silo.Http.Gateway;

/// <summary>What a keyed request without an Idempotency-Key gets on a gateway route.</summary>
public enum MissingKeyMode
{
    /// <summary>400, as on the built-in endpoints.</summary>
    Reject,

    /// <summary>Forwarded as it is, without idempotency (for clients not yet sending keys).</summary>
    PassThrough,
}

/// <summary>
/// The idempotency gateway (section <c>Gateway</c>): routes to other teams' HTTP services, whose keyed
/// requests get the Idempotency-Key contract in front of them. No routes, no gateway.
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    public static readonly string[] DefaultStoredHeaders = ["Location", "ETag", "Content-Location", "Last-Modified", "Cache-Control"];

    /// <summary>The routes by name (<c>Gateway:Routes:&lt;name&gt;</c>).</summary>
    public Dictionary<string, GatewayRoute> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Largest upstream body kept for replays, in bytes; a larger one is streamed to the first caller and replayed without its body.</summary>
    public long MaxStoredBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Upstream response headers kept for replays (Content-Type always is); null: <see cref="DefaultStoredHeaders"/>.</summary>
    public string[]? StoredHeaders { get; set; }

    public IReadOnlyList<string> KeptHeaders => StoredHeaders is { Length: > 0 } headers ? headers : DefaultStoredHeaders;

    public void Validate()
    {
        StartupException.Require(MaxStoredBodyBytes is >= 0 and <= 64 * 1024 * 1024,
            $"Gateway:MaxStoredBodyBytes must be 0 to 67108864 bytes, not {MaxStoredBodyBytes}.");
        foreach (var header in KeptHeaders)
        {
            StartupException.Require(GatewayRoute.IsToken(header), $"Gateway:StoredHeaders: '{header}' is not a header name.");
        }

        foreach (var (name, route) in Routes)
        {
            route.Validate(name);
        }

        var prefixes = Routes.Where(r => r.Value.PathPrefix is not null && r.Value.Hosts is not { Length: > 0 })
            .GroupBy(r => r.Value.NormalizedPrefix, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        StartupException.Require(prefixes is null,
            $"Gateway:Routes: {string.Join(" and ", prefixes?.Select(p => p.Key) ?? [])} both route the path prefix '{prefixes?.Key}'.");
    }
}

/// <summary>One gateway route: which requests it takes, where it sends them, and how keys work on it.</summary>
public sealed class GatewayRoute
{
    public static readonly string[] DefaultKeyedMethods = ["POST", "PATCH"];

    /// <summary>YARP's load-balancing policies.</summary>
    public static readonly string[] LoadBalancingPolicies = ["PowerOfTwoChoices", "RoundRobin", "Random", "LeastRequests", "FirstAlphabetical"];

    /// <summary>Paths the silo serves itself; a route may not take them.</summary>
    private static readonly string[] ReservedPrefixes = ["/api", "/health", "/dashboard"];

    /// <summary>Requests whose path starts with this (<c>/payments</c>); null: any path (then <see cref="Hosts"/> must be set).</summary>
    public string? PathPrefix { get; set; }

    /// <summary>Requests for these hosts only (<c>pay.example.com</c>, <c>*.example.com</c>); empty: any host.</summary>
    public string[]? Hosts { get; set; }

    /// <summary>The upstream service's addresses (<c>http://10.0.0.5:8080</c>); several are load-balanced.</summary>
    public string[]? Upstreams { get; set; }

    /// <summary>One of <see cref="LoadBalancingPolicies"/>.</summary>
    public string LoadBalancing { get; set; } = "PowerOfTwoChoices";

    /// <summary>When set, each upstream is probed on this path and left out while it fails.</summary>
    public string? HealthPath { get; set; }

    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Methods that need a key; null: POST and PATCH.</summary>
    public string[]? KeyedMethods { get; set; }

    public MissingKeyMode MissingKey { get; set; } = MissingKeyMode.Reject;

    /// <summary>False: a plain reverse proxy route, no keys at all (for comparison, or paths that need none).</summary>
    public bool Idempotency { get; set; } = true;

    /// <summary>Whether an upstream 4xx is stored and replayed (true) or leaves the key free for a corrected retry (false, the default).</summary>
    public bool StoreClientErrors { get; set; }

    /// <summary>The header whose value scopes keys on this route; null: the API key header (<c>Http:ApiKeyHeader</c>).</summary>
    public string? ScopeHeader { get; set; }

    /// <summary>Whether the upstream sees the path without <see cref="PathPrefix"/>.</summary>
    public bool StripPrefix { get; set; }

    /// <summary>How long an upstream may stay silent before the request fails with 504.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    public IReadOnlyList<string> Methods => KeyedMethods is { Length: > 0 } methods ? methods : DefaultKeyedMethods;

    public string NormalizedPrefix => PathPrefix is null or "/" ? "/" : "/" + PathPrefix.Trim('/');

    public bool IsKeyed(string method) => Methods.Contains(method, StringComparer.OrdinalIgnoreCase);

    public void Validate(string name)
    {
        var where = $"Gateway:Routes:{name}";
        StartupException.Require(name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'),
            $"{where}: a route name is 1 to 64 letters, digits, '-' or '_'.");
        StartupException.Require(PathPrefix is not null || Hosts is { Length: > 0 }, $"{where}: set PathPrefix or Hosts (or both).");
        if (PathPrefix is not null)
        {
            StartupException.Require(PathPrefix.StartsWith('/') && !PathPrefix.Contains('{') && !PathPrefix.Contains('}') && !PathPrefix.Contains('?') && !PathPrefix.Contains('*'),
                $"{where}:PathPrefix must be a plain path starting with '/' (no '{{', '}}', '*' or '?'), not '{PathPrefix}'.");
            var reserved = NormalizedPrefix == "/"
                ? Hosts is { Length: > 0 } ? null : "every path"
                : ReservedPrefixes.FirstOrDefault(r => (NormalizedPrefix + "/").StartsWith(r + "/", StringComparison.OrdinalIgnoreCase));
            StartupException.Require(reserved is null,
                $"{where}:PathPrefix '{PathPrefix}' would take {reserved}, which the silo serves itself; use another prefix, or Hosts.");
        }

        foreach (var host in Hosts ?? [])
        {
            StartupException.Require(Uri.CheckHostName(host.StartsWith("*.") ? host[2..] : host.Split(':')[0]) != UriHostNameType.Unknown,
                $"{where}:Hosts: '{host}' is not a host name.");
        }

        StartupException.Require(Upstreams is { Length: > 0 }, $"{where}:Upstreams: name at least one upstream address (http://host:port).");
        foreach (var upstream in Upstreams!)
        {
            StartupException.Require(Uri.TryCreate(upstream, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query),
                $"{where}:Upstreams: '{upstream}' is not an http:// or https:// address.");
        }

        StartupException.Require(LoadBalancingPolicies.Contains(LoadBalancing, StringComparer.OrdinalIgnoreCase),
            $"{where}:LoadBalancing must be one of {string.Join(", ", LoadBalancingPolicies)}, not '{LoadBalancing}'.");
        StartupException.Require(HealthPath is null || HealthPath.StartsWith('/'), $"{where}:HealthPath must start with '/', not '{HealthPath}'.");
        StartupException.Require(HealthInterval >= TimeSpan.FromSeconds(1), $"{where}:HealthInterval must be at least 1 s.");
        StartupException.Require(Timeout >= TimeSpan.FromSeconds(1), $"{where}:Timeout must be at least 1 s.");
        foreach (var method in Methods)
        {
            StartupException.Require(IsToken(method), $"{where}:KeyedMethods: '{method}' is not an HTTP method.");
        }

        StartupException.Require(ScopeHeader is null || IsToken(ScopeHeader), $"{where}:ScopeHeader: '{ScopeHeader}' is not a header name.");
    }

    /// <summary>An RFC 9110 token: what a method or a header name is made of.</summary>
    public static bool IsToken(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));
}
