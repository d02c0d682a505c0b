using Reliability.Infrastructure;

namespace Reliability.Sagas;

/// <summary>Retry, timeout and fault-injection settings of sagas (section <c>Sagas</c>).</summary>
public sealed class SagaOptions
{
    public const string SectionName = "Sagas";

    /// <summary>Attempts of a step's action before the saga gives up and compensates.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Attempts of a compensation before the saga is parked as Failed for an operator.</summary>
    public int MaxCompensationAttempts { get; set; } = 8;

    /// <summary>How long one call to a participant may take before it counts as a (transient) failure.</summary>
    public TimeSpan StepTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>First retry delay; doubled per attempt up to <see cref="BackoffMax"/>, with jitter.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Period of the supervisor's reminder, which resumes non-terminal sagas whose silo died.</summary>
    public TimeSpan KeepAlivePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Injected faults by step name (create-order, reserve-stock, charge-payment, confirm-order, debit, record-payment, credit).</summary>
    public Dictionary<string, StepFaults> Faults { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How registered workflows call their participants over HTTP (section <c>Sagas:Http</c>).</summary>
    public SagaHttpOptions Http { get; set; } = new();

    public void Validate()
    {
        Http.Validate();
        StartupException.Require(MaxAttempts is >= 1 and <= 100, $"Sagas:MaxAttempts must be between 1 and 100 (got {MaxAttempts}).");
        StartupException.Require(MaxCompensationAttempts is >= 1 and <= 1000, $"Sagas:MaxCompensationAttempts must be between 1 and 1000 (got {MaxCompensationAttempts}).");
        StartupException.Require(StepTimeout > TimeSpan.Zero && StepTimeout <= TimeSpan.FromSeconds(30), $"Sagas:StepTimeout must be between 0 and 30 s (got {StepTimeout}).");
        StartupException.Require(BackoffBase > TimeSpan.Zero && BackoffMax >= BackoffBase, "Sagas:BackoffBase must be positive and at most Sagas:BackoffMax.");
        StartupException.Require(KeepAlivePeriod >= TimeSpan.FromSeconds(1), $"Sagas:KeepAlivePeriod must be at least 1 s (got {KeepAlivePeriod}).");
        foreach (var (step, faults) in Faults)
        {
            faults.Validate($"Sagas:Faults:{step}");
        }
    }
}

/// <summary>
/// Faults injected into one step, so the retry and compensation paths can be shown and tested.
/// Probabilities are between 0 and 1. A transient fault happens before the participant is called or
/// after it answered (the answer is lost), half and half, so duplicates are exercised too.
/// </summary>
public sealed class StepFaults
{
    public double TransientProbability { get; set; }

    public double RejectProbability { get; set; }

    public TimeSpan Delay { get; set; }

    public double CompensationTransientProbability { get; set; }

    /// <summary>The participant applies the action, and its answer is lost on the way back.</summary>
    public double LostAnswerProbability { get; set; }

    public void Validate(string setting)
    {
        foreach (var (name, value) in new[]
        {
            ("TransientProbability", TransientProbability), ("RejectProbability", RejectProbability),
            ("CompensationTransientProbability", CompensationTransientProbability), ("LostAnswerProbability", LostAnswerProbability),
        })
        {
            StartupException.Require(value is >= 0 and <= 1, $"{setting}:{name} must be between 0 and 1 (got {value}).");
        }

        StartupException.Require(Delay >= TimeSpan.Zero && Delay <= TimeSpan.FromSeconds(30), $"{setting}:Delay must be between 0 and 30 s.");
    }
}

/// <summary>
/// The limits of HTTP participants. A registered workflow may call only hosts of <see cref="AllowedHosts"/>
/// (exact names, <c>host:port</c>, or <c>*.suffix</c>; loopback only by default), so registering one cannot
/// be used to reach arbitrary hosts from inside the cluster.
/// </summary>
public sealed class SagaHttpOptions
{
    /// <summary>Loopback: what a cluster allows when its configuration names no hosts.</summary>
    public static readonly IReadOnlyList<string> LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>
    /// The hosts configured; empty means <see cref="LoopbackHosts"/>. (Empty by default, because the configuration
    /// binder appends to a list's initial items: a default list could never be narrowed.)
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>The hosts in force: the configured ones, or loopback.</summary>
    public IReadOnlyList<string> Hosts => AllowedHosts.Count > 0 ? AllowedHosts : LoopbackHosts;

    /// <summary>The largest answer body kept for later templates and shown by <c>saga show</c>; a larger one is refused as a failure.</summary>
    public int MaxResponseBytes { get; set; } = 64 * 1024;

    /// <summary>The largest workflow document accepted.</summary>
    public int MaxDefinitionBytes { get; set; } = 256 * 1024;

    /// <summary>The largest start request (the saga's input).</summary>
    public int MaxInputBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Where participants of callback steps call back (<c>{base}/api/sagas/{id}/steps/{step}/complete</c>): the
    /// address they reach the cluster at, behind a load balancer in production. Defaults to the silo's own HTTP address.
    /// </summary>
    public string CallbackBaseUrl { get; set; } = "";

    /// <summary>Header values a definition names as <c>{{secrets.name}}</c>: kept in configuration, never in the definition.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);

    public bool HasSecret(string name) => Secrets.ContainsKey(name);

    /// <summary>Whether <paramref name="uri"/>'s host (or host:port) is allowed.</summary>
    public bool Allows(Uri uri)
    {
        var host = uri.Host.ToLowerInvariant();
        var hostAndPort = $"{(uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost}]" : host)}:{uri.Port}";
        foreach (var allowed in Hosts)
        {
            var rule = allowed.Trim().ToLowerInvariant();
            var bare = rule.Trim('[', ']');
            if (rule == hostAndPort || bare == host.Trim('[', ']') || (rule.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(rule[1..], StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    public void Validate()
    {
        StartupException.Require(AllowedHosts.All(h => !string.IsNullOrWhiteSpace(h) && h != "*"),
            "Sagas:Http:AllowedHosts lists host names, host:port or *.suffix; '*' (every host) is not allowed.");
        StartupException.Require(MaxResponseBytes is >= 1024 and <= 16 * 1024 * 1024, $"Sagas:Http:MaxResponseBytes must be 1 KiB to 16 MiB (got {MaxResponseBytes}).");
        StartupException.Require(MaxDefinitionBytes is >= 1024 and <= 4 * 1024 * 1024, $"Sagas:Http:MaxDefinitionBytes must be 1 KiB to 4 MiB (got {MaxDefinitionBytes}).");
        StartupException.Require(MaxInputBytes is >= 256 and <= 4 * 1024 * 1024, $"Sagas:Http:MaxInputBytes must be 256 B to 4 MiB (got {MaxInputBytes}).");
    }
}
