using System.Diagnostics;
using Reliability.RateLimiting;
using Spectre.Console;

namespace Reliability.Client.Commands.RateLimiting;

/// <summary>One request of a burst: when it was sent, relative to the start, and what it got.</summary>
public sealed record BurstShot(TimeSpan At, RateLimitDecision Decision);

/// <summary>Fires requests at a subject on a schedule and draws what each one got.</summary>
public static class Burst
{
    /// <summary>Sends one check at each offset of <paramref name="schedule"/> (relative to now), in order.</summary>
    public static async Task<IReadOnlyList<BurstShot>> RunAsync(IRateLimiterGrain limiter, RateLimitRequest request, IReadOnlyList<TimeSpan> schedule, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var shots = new List<BurstShot>(schedule.Count);
        foreach (var at in schedule)
        {
            var wait = at - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            shots.Add(new BurstShot(clock.Elapsed, await limiter.Check(request)));
        }

        return shots;
    }

    /// <summary><paramref name="count"/> requests spread evenly over <paramref name="over"/>, after a first burst of <paramref name="burst"/> at once.</summary>
    public static IReadOnlyList<TimeSpan> Schedule(int count, TimeSpan over, int burst = 0) =>
        Enumerable.Repeat(TimeSpan.Zero, burst)
            .Concat(Enumerable.Range(0, count - burst).Select(i => count - burst <= 1 ? TimeSpan.Zero : over * i / (count - burst - 1)))
            .ToList();

    /// <summary>One symbol per request: allowed, allowed after a queueing delay, denied.</summary>
    public static string Strip(IEnumerable<BurstShot> shots) => string.Concat(shots.Select(s => s.Decision switch
    {
        { Allowed: true, Delay.Ticks: > 0 } => "[yellow]▓[/]",
        { Allowed: true } => "[green]█[/]",
        _ => "[red]·[/]",
    }));

    public const string Legend = "[green]█[/] allowed  [yellow]▓[/] allowed after a queueing delay  [red]·[/] denied";

    public static string Summary(IReadOnlyList<BurstShot> shots)
    {
        var allowed = shots.Count(s => s.Decision.Allowed);
        var delayed = shots.Where(s => s.Decision.Delay > TimeSpan.Zero).ToList();
        var summary = $"{allowed}/{shots.Count} allowed";
        return delayed.Count > 0 ? $"{summary}, {delayed.Count} queued (longest delay {delayed.Max(s => s.Decision.Delay).TotalMilliseconds:0} ms)" : summary;
    }

    /// <summary>Allowed and denied per slice of time, as a small bar chart.</summary>
    public static Table Timeline(IReadOnlyList<BurstShot> shots, int slices = 10)
    {
        var end = shots.Count == 0 ? TimeSpan.FromMilliseconds(1) : shots[^1].At + TimeSpan.FromMilliseconds(1);
        var table = new Table().AddColumns("from", "allowed", "denied", "");
        for (var i = 0; i < slices; i++)
        {
            var from = end * i / slices;
            var to = end * (i + 1) / slices;
            var inSlice = shots.Where(s => s.At >= from && s.At < to).ToList();
            var allowed = inSlice.Count(s => s.Decision.Allowed);
            var denied = inSlice.Count - allowed;
            table.AddRow($"{from.TotalMilliseconds:0} ms", allowed.ToString(), denied.ToString(),
                $"[green]{new string('█', allowed)}[/][red]{new string('·', denied)}[/]");
        }

        return table;
    }
}

/// <summary><c>ratelimit burst</c>: fire a burst at a subject and watch the limit bite.</summary>
public sealed class BurstCommand : Spectre.Console.Cli.AsyncCommand<BurstSettings>
{
    public override async Task<int> ExecuteAsync(Spectre.Console.Cli.CommandContext context, BurstSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Requests is < 1 or > 100_000)
        {
            throw new Infrastructure.CommandException("--requests must be between 1 and 100,000.");
        }

        if (!Durations.TryParse(settings.Over, out var over))
        {
            throw new Infrastructure.CommandException($"--over must be a duration such as 0s, 500ms or 3s (got '{settings.Over}').");
        }

        await using var connection = await RateLimitView.ConnectAsync(settings, cancellationToken);
        var limiter = connection.Client.GetRateLimiter(settings.Subject);
        var request = new RateLimitRequest(settings.PolicyNames);
        var shots = await AnsiConsole.Status().StartAsync($"sending {settings.Requests} requests over {Durations.Format(over)}…",
            _ => Burst.RunAsync(limiter, request, Burst.Schedule(settings.Requests, over), cancellationToken));
        if (shots[0].Decision.Problem is { } problem)
        {
            return RateLimitView.Problem(problem);
        }

        AnsiConsole.MarkupLine(Burst.Strip(shots));
        AnsiConsole.MarkupLine(Burst.Legend);
        AnsiConsole.Write(Burst.Timeline(shots));
        AnsiConsole.MarkupLine(Burst.Summary(shots));
        return 0;
    }
}
