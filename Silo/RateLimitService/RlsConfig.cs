using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Reliability.RateLimiting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Reliability.Silo.RateLimitService;

/// <summary>
/// One rule of a domain: a descriptor entry to match (<see cref="Key"/>, and a <see cref="Value"/> that is
/// exact, a prefix ending in <c>*</c>, or absent for any value), what it limits, and the rules for the next
/// entry. <see cref="Path"/> names it (<c>domain: key=value, key</c>), in statuses and errors.
/// A <c>requests_per_unit</c> of 0 denies every request (<see cref="DeniesAll"/>), as in Envoy's service.
/// </summary>
public sealed record RlsRule(string Key, string? Value, string Path, RateLimitPolicy? Policy, bool Unlimited, ImmutableArray<RlsRule> Children, bool DeniesAll = false)
{
    public bool IsWildcard => Value is { Length: > 0 } v && v[^1] == '*';
}

/// <summary>A domain's rules, as read from one file (<see cref="Source"/>).</summary>
public sealed record RlsDomain(string Name, ImmutableArray<RlsRule> Descriptors, string Source);

/// <summary>A rule found for a descriptor: the rule, and the subject whose bucket it limits (the domain and the matched entries).</summary>
public sealed record RlsMatch(RlsRule Rule, string Subject);

/// <summary>A configuration file that cannot be used, with where and why.</summary>
public sealed class RlsConfigException(string source, int line, string field, string message)
    : Exception($"{source}:{line}: {field}: {message}")
{
    public string File { get; } = source;

    public int Line { get; } = line;

    public string Field { get; } = field;

    /// <summary>Why, without the file, line and field.</summary>
    public string Reason { get; } = message;
}

/// <summary>
/// Reads envoyproxy/ratelimit's YAML (a <c>domain</c>, nested <c>descriptors</c> with <c>key</c>, optional
/// <c>value</c>, <c>rate_limit {unit, requests_per_unit}</c>, <c>unlimited</c>, <c>shadow_mode</c>,
/// <c>detailed_metric</c>, wildcard values <c>foo*</c>) unchanged, plus our extensions inside
/// <c>rate_limit</c>: <c>algorithm</c> (any of the five; default fixed-window, as Envoy's), <c>period</c>
/// (any window length, e.g. <c>5m</c>, instead of one <c>unit</c>), and <c>burst</c> / <c>rate</c> for the
/// token and leaking buckets (default: both <c>requests_per_unit</c>). Anything else is refused with the
/// line and the field.
/// </summary>
public static class RlsConfigParser
{
    private static readonly Dictionary<string, TimeSpan> Units = new(StringComparer.OrdinalIgnoreCase)
    {
        ["second"] = TimeSpan.FromSeconds(1),
        ["minute"] = TimeSpan.FromMinutes(1),
        ["hour"] = TimeSpan.FromHours(1),
        ["day"] = TimeSpan.FromDays(1),
        ["week"] = TimeSpan.FromDays(7),
        ["month"] = TimeSpan.FromDays(30),
        ["year"] = TimeSpan.FromDays(365),
    };

    /// <summary>The window of one of Envoy's units (<c>second</c> … <c>year</c>, any case).</summary>
    public static bool TryUnit(string name, out TimeSpan window) => Units.TryGetValue(name, out window);

    private static readonly string[] DomainFields = ["domain", "descriptors"];
    private static readonly string[] RuleFields = ["key", "value", "rate_limit", "unlimited", "shadow_mode", "detailed_metric", "descriptors", "name", "replaces", "quota_mode"];
    private static readonly string[] LimitFields = ["unit", "requests_per_unit", "unit_multiplier", "name", "algorithm", "period", "burst", "rate"];

    public const int MaxDepth = 8;

    public static RlsDomain Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new RlsConfigException(source, (int)ex.Start.Line, "yaml", ex.Message);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new RlsConfigException(source, 1, "domain", "the file must hold one mapping with 'domain' and 'descriptors'");
        }

        CheckFields(source, root, DomainFields, "");
        var domain = Scalar(source, root, "domain", required: true)!;
        if (domain.Length is 0 or > 128)
        {
            throw new RlsConfigException(source, Line(root, "domain"), "domain", "must be 1 to 128 characters");
        }

        var rules = Rules(source, domain, root, "descriptors", domain + ":", depth: 1);
        return new RlsDomain(domain, rules, source);
    }

    /// <summary>
    /// The most specific rule for a descriptor's entries, as Envoy's service finds it: at each entry an
    /// exact value first, then the longest wildcard prefix, then the key alone; the entries must all be
    /// matched. Null when no rule matches (the descriptor is then unlimited).
    /// </summary>
    public static RlsMatch? Match(RlsDomain domain, IReadOnlyList<(string Key, string Value)> entries)
    {
        var level = domain.Descriptors;
        RlsRule? rule = null;
        foreach (var (key, value) in entries)
        {
            rule = level.FirstOrDefault(r => r.Key == key && r.Value == value)
                ?? level.Where(r => r.Key == key && r.IsWildcard && value.StartsWith(r.Value![..^1], StringComparison.Ordinal))
                    .OrderByDescending(r => r.Value!.Length).FirstOrDefault()
                ?? level.FirstOrDefault(r => r.Key == key && r.Value is null);
            if (rule is null)
            {
                return null;
            }

            level = rule.Children;
        }

        if (rule is null || (rule.Policy is null && !rule.Unlimited && !rule.DeniesAll))
        {
            return null;
        }

        var subject = $"rls/{domain.Name}/" + string.Join("|", entries.Select(e => $"{e.Key}={e.Value}"));
        return new RlsMatch(rule, subject.Length <= RateLimitRules.MaxSubjectLength ? subject : $"rls/{Hash(subject)}");
    }

    private static ImmutableArray<RlsRule> Rules(string source, string domain, YamlMappingNode parent, string field, string path, int depth)
    {
        if (!parent.Children.TryGetValue(new YamlScalarNode(field), out var node))
        {
            return [];
        }

        if (depth > MaxDepth)
        {
            throw new RlsConfigException(source, (int)node.Start.Line, field, $"descriptors nest at most {MaxDepth} deep");
        }

        if (node is not YamlSequenceNode list)
        {
            throw new RlsConfigException(source, (int)node.Start.Line, field, "must be a list of descriptors");
        }

        var rules = ImmutableArray.CreateBuilder<RlsRule>();
        foreach (var item in list)
        {
            if (item is not YamlMappingNode rule)
            {
                throw new RlsConfigException(source, (int)item.Start.Line, field, "each descriptor is a mapping with at least 'key'");
            }

            CheckFields(source, rule, RuleFields, field + ".");
            var key = Scalar(source, rule, "key", required: true)!;
            var value = Scalar(source, rule, "value", required: false);
            if (key.Length is 0 or > 64)
            {
                throw new RlsConfigException(source, Line(rule, "key"), "key", "must be 1 to 64 characters");
            }

            var rulePath = path + (path.EndsWith(':') ? " " : ", ") + (value is null ? key : $"{key}={value}");
            if (rules.Any(r => r.Key == key && r.Value == value))
            {
                throw new RlsConfigException(source, Line(rule, "key"), "key", $"'{rulePath}' is defined twice");
            }

            var unlimited = Flag(source, rule, "unlimited");
            var shadow = Flag(source, rule, "shadow_mode");
            _ = Flag(source, rule, "detailed_metric");
            var policy = rule.Children.TryGetValue(new YamlScalarNode("rate_limit"), out var limitNode)
                ? Policy(source, domain, rulePath, limitNode, shadow)
                : null;
            if (policy is not null && unlimited)
            {
                throw new RlsConfigException(source, Line(rule, "unlimited"), "unlimited", "a descriptor is either unlimited or has a rate_limit, not both");
            }

            var deniesAll = policy is not null && Number(source, (YamlMappingNode)limitNode!, "requests_per_unit", required: true) == 0;
            rules.Add(new RlsRule(key, value, rulePath, policy, unlimited, Rules(source, domain, rule, "descriptors", rulePath, depth + 1), deniesAll));
        }

        return rules.ToImmutable();
    }

    private static RateLimitPolicy Policy(string source, string domain, string path, YamlNode node, bool shadow)
    {
        if (node is not YamlMappingNode limit)
        {
            throw new RlsConfigException(source, (int)node.Start.Line, "rate_limit", "must be a mapping with 'unit' and 'requests_per_unit'");
        }

        CheckFields(source, limit, LimitFields, "rate_limit.");
        var perUnit = Number(source, limit, "requests_per_unit", required: true)!.Value;
        var algorithm = RateLimitAlgorithm.FixedWindow;
        if (Scalar(source, limit, "algorithm", required: false) is { } name && !RateLimitAlgorithms.TryParse(name, out algorithm))
        {
            throw new RlsConfigException(source, Line(limit, "algorithm"), "rate_limit.algorithm", $"must be one of {string.Join(", ", RateLimitAlgorithms.Names)}, not '{name}'");
        }

        TimeSpan period;
        if (Scalar(source, limit, "period", required: false) is { } periodText)
        {
            if (!Durations.TryParse(periodText, out period) || period <= TimeSpan.Zero)
            {
                throw new RlsConfigException(source, Line(limit, "period"), "rate_limit.period", $"'{periodText}' is not a duration such as 500ms, 10s, 5m, 1h or 1d");
            }
        }
        else
        {
            var unit = Scalar(source, limit, "unit", required: true)!;
            if (!Units.TryGetValue(unit, out period))
            {
                throw new RlsConfigException(source, Line(limit, "unit"), "rate_limit.unit", $"must be one of {string.Join(", ", Units.Keys)}, not '{unit}'");
            }

            period *= Number(source, limit, "unit_multiplier", required: false) ?? 1;
        }

        var burst = Number(source, limit, "burst", required: false);
        var rate = Number(source, limit, "rate", required: false);
        if (!algorithm.HasRate() && (burst is not null || rate is not null))
        {
            throw new RlsConfigException(source, Line(limit, burst is not null ? "burst" : "rate"), burst is not null ? "rate_limit.burst" : "rate_limit.rate",
                $"applies to token-bucket and leaking-bucket only, not {algorithm.Name()}");
        }

        // requests_per_unit: 0 denies everything (RlsRule.DeniesAll); the policy is only there to describe the rule.
        var policy = new RateLimitPolicy(
            $"rls-{Hash(domain + "\n" + path)[..12]}",
            algorithm,
            Limit: algorithm.HasRate() ? burst ?? Math.Max(1, perUnit) : Math.Max(1, perUnit),
            Period: period,
            Rate: algorithm.HasRate() ? rate ?? Math.Max(1, perUnit) : 0,
            Shadow: shadow);
        if (RateLimitRules.Check(policy).FirstOrDefault() is { } error)
        {
            throw new RlsConfigException(source, (int)limit.Start.Line, "rate_limit." + error.Field, error.Message);
        }

        return policy;
    }

    private static void CheckFields(string source, YamlMappingNode node, string[] allowed, string prefix)
    {
        foreach (var (key, _) in node.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (!allowed.Contains(name))
            {
                throw new RlsConfigException(source, (int)key.Start.Line, prefix + name, $"unknown field; expected one of {string.Join(", ", allowed)}");
            }
        }
    }

    private static string? Scalar(string source, YamlMappingNode node, string field, bool required)
    {
        if (!node.Children.TryGetValue(new YamlScalarNode(field), out var value))
        {
            return required ? throw new RlsConfigException(source, (int)node.Start.Line, field, "is required") : null;
        }

        return value is YamlScalarNode { Value: { } text }
            ? text
            : throw new RlsConfigException(source, (int)value.Start.Line, field, "must be a single value");
    }

    private static long? Number(string source, YamlMappingNode node, string field, bool required) =>
        Scalar(source, node, field, required) is not { } text
            ? null
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= int.MaxValue
                ? number
                : throw new RlsConfigException(source, Line(node, field), field, $"must be a whole number from 0 to {int.MaxValue}, not '{text}'");

    private static bool Flag(string source, YamlMappingNode node, string field) =>
        Scalar(source, node, field, required: false) switch
        {
            null or "false" => false,
            "true" => true,
            var other => throw new RlsConfigException(source, Line(node, field), field, $"must be true or false, not '{other}'"),
        };

    private static int Line(YamlMappingNode node, string field) =>
        node.Children.Keys.FirstOrDefault(k => (k as YamlScalarNode)?.Value == field) is { } key ? (int)key.Start.Line : (int)node.Start.Line;

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}
