using Reliability.Client.Commands.RateLimiting;
using Reliability.RateLimiting;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>The same traffic through all five algorithms at once, so their differences show side by side.</summary>
public sealed class RateLimitingChapter : ITourChapter
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    public string Title => "Rate limiting: one burst, five algorithms";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        var policies = new[]
        {
            new RateLimitPolicy("tour-token-bucket", RateLimitAlgorithm.TokenBucket, 10, TimeSpan.FromMilliseconds(200), Rate: 2),
            new RateLimitPolicy("tour-leaking-bucket", RateLimitAlgorithm.LeakingBucket, 10, Second, Rate: 10),
            new RateLimitPolicy("tour-fixed-window", RateLimitAlgorithm.FixedWindow, 10, Second),
            new RateLimitPolicy("tour-sliding-log", RateLimitAlgorithm.SlidingWindowLog, 10, Second),
            new RateLimitPolicy("tour-sliding-counter", RateLimitAlgorithm.SlidingWindowCounter, 10, Second),
        };
        var registry = context.Client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey);
        foreach (var policy in policies)
        {
            await registry.Upsert(policy);
        }

        AnsiConsole.MarkupLine("Five policies of about [bold]10 requests per second[/], one per algorithm. Each gets the same traffic at the same " +
                               "moments: a burst of 15 at once, then 45 more spread over three seconds (15 per second).");
        var schedule = Burst.Schedule(60, TimeSpan.FromSeconds(3), burst: 15);
        var runs = await AnsiConsole.Status().StartAsync("sending the same 60 requests to five subjects…", _ => Task.WhenAll(policies.Select(p =>
            Burst.RunAsync(context.Client.GetRateLimiter($"tour-{context.RunId}-{p.Name}"), new RateLimitRequest([p.Name]), schedule, cancellationToken))));

        var table = new Table().AddColumns("algorithm", "60 requests, in order", "result");
        for (var i = 0; i < policies.Length; i++)
        {
            table.AddRow(policies[i].Algorithm.Name(), Burst.Strip(runs[i]), Burst.Summary(runs[i]));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Burst.Legend);
        AnsiConsole.MarkupLine("The token bucket lets the burst through and then meters; the leaking bucket queues instead of refusing (each " +
                               "request is told when its turn comes); the fixed window forgets everything at each second boundary; the sliding " +
                               "log is exact; the sliding counter approximates it with two numbers. Each subject is one grain, so every " +
                               "decision is atomic across the cluster.");
        AnsiConsole.MarkupLine("Try [bold]ratelimit burst <subject> --policy tour-fixed-window[/] or [bold]ratelimit stats[/].");
    }
}
