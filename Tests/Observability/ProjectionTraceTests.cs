using System.Diagnostics;
using Reliability.Infrastructure;
using Reliability.Services;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Observability;

/// <summary>A projection's apply span links to the traced append whose event it folded.</summary>
public sealed class ProjectionTraceTests
{
    private const string RequestSourceName = "Reliability.Tests.Appends";
    private static readonly ActivitySource RequestSource = new(RequestSourceName);

    [Fact]
    public async Task AnEventAppendedInsideATrace_IsAppliedInASpanLinkedToThatTrace()
    {
        using var spans = new SpanCollector(ToolkitTelemetry.Projections, RequestSourceName);
        var (cluster, _) = await TestClusters.StartAsync("projection-trace", silos: 2);
        await using var _ = cluster;

        ActivityTraceId trace;
        using (var append = RequestSource.StartActivity("PUT /api/admin/accounts/traced", ActivityKind.Server)!)
        {
            trace = append.TraceId;
            await cluster.Client.GetGrain<IAccountGrain>("traced").Open("open", 10m);
        }

        var clock = Stopwatch.StartNew();
        Activity? linked = null;
        while (linked is null && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
            linked = spans.Spans.FirstOrDefault(s => s.Source.Name == ToolkitTelemetry.Projections && s.Links.Any(l => l.Context.TraceId == trace));
        }

        Assert.NotNull(linked);
        Assert.StartsWith("projection apply ", linked.OperationName, StringComparison.Ordinal);
        // A round is a trace of its own: it folds events of many requests, each one a link.
        Assert.NotEqual(trace, linked.TraceId);
        Assert.Equal("live", linked.GetTagItem("projection.generation"));
    }
}
