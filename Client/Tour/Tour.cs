using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>The tour's chapters, in order; each capability adds its own.</summary>
public static class Tour
{
    public static IReadOnlyList<ITourChapter> Chapters { get; } =
    [
        new ClusterChapter(),
        new RateLimitingChapter(),
        new RateLimitServiceChapter(),
        new IdempotencyChapter(),
        new GatewayChapter(),
        new SagasChapter(),
        new WorkflowsChapter(),
        new ProjectionsChapter(),
        new OpenProjectionsChapter(),
        new PartitionChapter(),
        new ObservabilityChapter(),
    ];

    public static async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        for (var i = 0; i < Chapters.Count; i++)
        {
            var chapter = Chapters[i];
            AnsiConsole.Write(new Rule($"[bold]{i + 1}. {Markup.Escape(chapter.Title)}[/]").LeftJustified());
            await chapter.RunAsync(context, cancellationToken);
            AnsiConsole.WriteLine();
        }
    }
}
