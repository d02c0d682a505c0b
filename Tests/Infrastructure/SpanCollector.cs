using System.Collections.Concurrent;
using System.Diagnostics;
using Reliability.Infrastructure;

namespace Reliability.Tests.Infrastructure;

/// <summary>
/// Records every span of the named sources (and the grain-call spans) that ends while it lives, all
/// sampled, in this process: the in-process silos of a test cluster included.
/// </summary>
public sealed class SpanCollector : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public SpanCollector(params string[] sources)
    {
        var names = new HashSet<string>(sources.Append(GrainCallTracing.SourceName).Append("Microsoft.Orleans.Application"), StringComparer.Ordinal);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => names.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The spans ended so far.</summary>
    public Activity[] Spans => [.. _spans];

    public void Dispose() => _listener.Dispose();
}
