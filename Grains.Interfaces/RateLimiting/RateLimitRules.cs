using System.Text.RegularExpressions;

namespace Reliability.RateLimiting;

/// <summary>What a subject, a cost and a policy may be; shared by the HTTP API, the client and the grains.</summary>
public static partial class RateLimitRules
{
    public const int MaxSubjectLength = 256;
    public const int MaxPoliciesPerCheck = 16;
    public const long MaxLimit = 1_000_000_000;

    /// <summary>The sliding log keeps one entry per admitted request (16 bytes each), so its limit is capped harder.</summary>
    public const long MaxSlidingLogLimit = 100_000;

    public static readonly TimeSpan MinimumPeriod = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaximumPeriod = TimeSpan.FromDays(366);

    public static FieldError? CheckSubject(string? subject) => subject switch
    {
        null or "" => new FieldError("subject", "is required and must not be empty"),
        { Length: > MaxSubjectLength } => new FieldError("subject", $"must be at most {MaxSubjectLength} characters (got {subject.Length})"),
        _ => null,
    };

    public static FieldError? CheckPolicyName(string? name, string field = "name") => name switch
    {
        null or "" => new FieldError(field, "is required"),
        _ when !PolicyName().IsMatch(name) => new FieldError(field, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
        _ => null,
    };

    /// <summary>
    /// The policies of one check: 1 to <see cref="MaxPoliciesPerCheck"/> valid names, each named once (a
    /// policy named twice would be spent twice by one check).
    /// </summary>
    public static FieldError? CheckPolicies(IReadOnlyList<string>? policies, string field = "policies")
    {
        if (policies is null || policies.Count is 0 or > MaxPoliciesPerCheck)
        {
            return new FieldError(field, $"name 1 to {MaxPoliciesPerCheck} policies (got {policies?.Count ?? 0})");
        }

        if (policies.Select(p => CheckPolicyName(p, field)).FirstOrDefault(e => e is not null) is { } invalid)
        {
            return invalid;
        }

        return policies.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice
            ? new FieldError(field, $"names policy '{twice.Key}' more than once; name each policy once")
            : null;
    }

    public static IReadOnlyList<FieldError> Check(RateLimitPolicy policy)
    {
        var errors = new List<FieldError>();
        if (CheckPolicyName(policy.Name) is { } name)
        {
            errors.Add(name);
        }

        if (!Enum.IsDefined(policy.Algorithm))
        {
            errors.Add(new FieldError("algorithm", $"must be one of {string.Join(", ", RateLimitAlgorithms.Names)}"));
            return errors;
        }

        var maxLimit = policy.Algorithm == RateLimitAlgorithm.SlidingWindowLog ? MaxSlidingLogLimit : MaxLimit;
        if (policy.Limit < 1 || policy.Limit > maxLimit)
        {
            errors.Add(new FieldError("limit", $"must be between 1 and {maxLimit:N0} (got {policy.Limit})"));
        }

        if (policy.Period < MinimumPeriod || policy.Period > MaximumPeriod)
        {
            errors.Add(new FieldError("period", $"must be between 1ms and 366d (got {Durations.Format(policy.Period)})"));
        }

        if (policy.Algorithm.HasRate())
        {
            if (policy.Rate < 1 || policy.Rate > MaxLimit)
            {
                errors.Add(new FieldError("rate", $"must be between 1 and {MaxLimit:N0} per period for {policy.Algorithm.Name()} (got {policy.Rate})"));
            }
            else if (policy.Algorithm == RateLimitAlgorithm.LeakingBucket && policy.Rate > policy.Period.Ticks)
            {
                errors.Add(new FieldError("rate", "drains faster than one request per 100 ns; use a longer period"));
            }
        }
        else if (policy.Rate != 0)
        {
            errors.Add(new FieldError("rate", $"does not apply to {policy.Algorithm.Name()}; leave it out"));
        }

        if (policy.DefaultCost < 1 || policy.DefaultCost > policy.Limit)
        {
            errors.Add(new FieldError("defaultCost", $"must be between 1 and the limit {policy.Limit} (got {policy.DefaultCost})"));
        }

        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex PolicyName();
}
