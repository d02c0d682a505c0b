using System.ComponentModel;
using Reliability.RateLimiting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.RateLimiting;

public sealed class PolicySetSettings : ClusterSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Policy name: letters, digits, '.', '_' or '-'.")]
    public string Name { get; init; } = "";

    [CommandOption("-a|--algorithm <ALGORITHM>")]
    [Description("token-bucket, leaking-bucket, fixed-window, sliding-window-log or sliding-window-counter.")]
    public string Algorithm { get; init; } = "token-bucket";

    [CommandOption("-l|--limit <N>")]
    [Description("Bucket capacity, queue capacity, or units per window.")]
    public long Limit { get; init; }

    [CommandOption("-p|--period <DURATION>")]
    [Description("Refill period, leak period or window: 500ms, 1s, 5m, 1h, 1d.")]
    public string Period { get; init; } = "1s";

    [CommandOption("-r|--rate <N>")]
    [Description("Tokens added (token bucket) or requests drained (leaking bucket) per period.")]
    public long Rate { get; init; }

    [CommandOption("--cost <N>")]
    [Description("Default cost of a check (default 1).")]
    [DefaultValue(1L)]
    public long DefaultCost { get; init; } = 1;

    [CommandOption("--shadow")]
    [Description("Decide and count, but never deny.")]
    public bool Shadow { get; init; }
}

public sealed class PolicyNameSettings : ClusterSettings
{
    [CommandArgument(0, "<NAME>")]
    public string Name { get; init; } = "";
}

public class SubjectSettings : ClusterSettings
{
    [CommandArgument(0, "<SUBJECT>")]
    [Description("Who is limited: a user, an API key, an address (up to 256 characters).")]
    public string Subject { get; init; } = "";

    [CommandOption("-p|--policy <NAMES>")]
    [Description("Policy name, or several separated by commas (decided together).")]
    public string Policies { get; init; } = "";

    public string[] PolicyNames => Policies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The same rules as the grain's, before connecting: a policy named twice would be spent twice.</summary>
    public override ValidationResult Validate() =>
        RateLimitRules.CheckPolicies(PolicyNames, "--policy") is { } invalid ? ValidationResult.Error($"--policy {invalid.Message}") : base.Validate();
}

public sealed class CheckSettings : SubjectSettings
{
    [CommandOption("-c|--cost <N>")]
    [Description("Units to spend; 0 peeks without spending. Default: each policy's default cost.")]
    public long? Cost { get; init; }
}

public sealed class BurstSettings : SubjectSettings
{
    [CommandOption("-n|--requests <N>")]
    [Description("Requests to send (default 60).")]
    [DefaultValue(60)]
    public int Requests { get; init; } = 60;

    [CommandOption("--over <DURATION>")]
    [Description("Spread the requests evenly over this long; 0s sends them all at once (default 3s).")]
    [DefaultValue("3s")]
    public string Over { get; init; } = "3s";
}
