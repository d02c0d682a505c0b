using Reliability.Client.Infrastructure;
using Reliability.RateLimiting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.RateLimiting;

internal static class RateLimitView
{
    public static IRateLimitPolicyRegistryGrain Registry(ClusterConnection connection) =>
        connection.Client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey);

    public static Task<ClusterConnection> ConnectAsync(ClusterSettings settings, CancellationToken cancellationToken) =>
        AnsiConsole.Status().StartAsync("connecting to the cluster…", _ => ClusterConnection.ConnectAsync(settings.Target(), cancellationToken));

    public static string Ms(TimeSpan span) => $"{Math.Ceiling(span.TotalMilliseconds):0} ms";

    public static Table Decision(string subject, RateLimitDecision decision)
    {
        var table = new Table().Title($"{Markup.Escape(subject)}: {(decision.Allowed ? "[green]allowed[/]" : "[red]denied[/]")}")
            .AddColumns("policy", "verdict", "limit", "remaining", "reset after", "retry after", "delay");
        foreach (var p in decision.Policies)
        {
            var verdict = p.Allowed ? "[green]allow[/]" : p.Shadow ? "[yellow]deny (shadow)[/]" : "[red]deny[/]";
            table.AddRow(Markup.Escape(p.Policy) + (p.Policy == decision.DecidedBy ? " [grey](decided)[/]" : ""), verdict,
                p.Limit.ToString(), p.Remaining.ToString(), Ms(p.ResetAfter), p.Allowed ? "-" : Ms(p.RetryAfter), p.Delay > TimeSpan.Zero ? Ms(p.Delay) : "-");
        }

        return table;
    }

    public static int Problem(RateLimitProblem problem)
    {
        AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(problem.Error.ToString())}");
        return 2;
    }
}

/// <summary><c>ratelimit policy set</c>: create or change a policy; every silo uses it within a second.</summary>
public sealed class PolicySetCommand : AsyncCommand<PolicySetSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PolicySetSettings settings, CancellationToken cancellationToken)
    {
        if (!RateLimitAlgorithms.TryParse(settings.Algorithm, out var algorithm))
        {
            throw new CommandException($"--algorithm must be one of {string.Join(", ", RateLimitAlgorithms.Names)} (got '{settings.Algorithm}').");
        }

        if (!Durations.TryParse(settings.Period, out var period))
        {
            throw new CommandException($"--period must be a duration such as 500ms, 1s, 5m (got '{settings.Period}').");
        }

        var policy = new RateLimitPolicy(settings.Name, algorithm, settings.Limit, period, settings.Rate, settings.DefaultCost, settings.Shadow);
        await using var connection = await RateLimitView.ConnectAsync(settings, cancellationToken);
        var change = await RateLimitView.Registry(connection).Upsert(policy);
        if (!change.Succeeded)
        {
            throw new CommandException("policy not changed: " + string.Join("; ", change.Errors));
        }

        AnsiConsole.MarkupLine($"[green]✓[/] {Markup.Escape(policy.Name)}: {Markup.Escape(policy.Describe())} (registry version {change.Version})");
        return 0;
    }
}

public sealed class PolicyListCommand : AsyncCommand<ClusterSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClusterSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await RateLimitView.ConnectAsync(settings, cancellationToken);
        var set = await RateLimitView.Registry(connection).GetAll();
        var table = new Table().Title($"policies (registry version {set.Version})").AddColumns("name", "algorithm", "limit", "period", "rate", "cost", "shadow");
        foreach (var p in set.Policies.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(p.Name), p.Algorithm.Name(), p.Limit.ToString("N0"), Durations.Format(p.Period),
                p.Algorithm.HasRate() ? p.Rate.ToString("N0") : "-", p.DefaultCost.ToString(), p.Shadow ? "yes" : "");
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class PolicyRemoveCommand : AsyncCommand<PolicyNameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PolicyNameSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await RateLimitView.ConnectAsync(settings, cancellationToken);
        var change = await RateLimitView.Registry(connection).Remove(settings.Name);
        if (!change.Succeeded)
        {
            throw new CommandException($"no policy named '{settings.Name}'");
        }

        AnsiConsole.MarkupLine($"[green]✓[/] removed {Markup.Escape(settings.Name)} (registry version {change.Version})");
        return 0;
    }
}

/// <summary><c>ratelimit check</c>: one decision, with every policy's numbers.</summary>
public sealed class CheckCommand : AsyncCommand<CheckSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CheckSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await RateLimitView.ConnectAsync(settings, cancellationToken);
        var decision = await connection.Client.GetRateLimiter(settings.Subject).Check(new RateLimitRequest(settings.PolicyNames, settings.Cost));
        if (decision.Problem is not null)
        {
            return RateLimitView.Problem(decision.Problem);
        }

        AnsiConsole.Write(RateLimitView.Decision(settings.Subject, decision));
        return decision.Allowed ? 0 : 1;
    }
}

/// <summary><c>ratelimit stats</c>: decisions per policy across the cluster since the silos started.</summary>
public sealed class StatsCommand : AsyncCommand<ClusterSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClusterSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await RateLimitView.ConnectAsync(settings, cancellationToken);
        var totals = await connection.Client.GetGrain<IRateLimitStatsGrain>(IRateLimitStatsGrain.DefaultKey).GetTotals();
        var table = new Table().Title("decisions per policy (all silos, since they started; updated every 2 s)")
            .AddColumns("policy", "allowed", "denied", "shadow-denied");
        foreach (var (policy, counters) in totals.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(policy), counters.Allowed.ToString("N0"), counters.Denied.ToString("N0"), counters.ShadowDenied.ToString("N0"));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]Also exported as the counter {RateLimitTelemetry.DecisionsCounter} of meter {RateLimitTelemetry.MeterName}.[/]");
        return 0;
    }
}
