using System.Diagnostics;

namespace Reliability.Client.Bench;

public sealed record LoadResult(string Name, long Operations, double PerSecond, double P50Ms, double P99Ms, long Errors);

/// <summary>Keeps a fixed number of operations in flight for a while and measures throughput and latency.</summary>
public static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string name, int inFlight, TimeSpan warmUp, TimeSpan duration, Func<long, ValueTask> operation, CancellationToken cancellationToken)
    {
        var histogram = new LatencyHistogram();
        long sequence = 0;
        long errors = 0;
        var measuring = false;
        var stopping = false;

        async Task WorkerAsync()
        {
            await Task.Yield();
            while (!Volatile.Read(ref stopping))
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await operation(Interlocked.Increment(ref sequence));
                    if (Volatile.Read(ref measuring))
                    {
                        histogram.Record(Stopwatch.GetElapsedTime(started));
                    }
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }

        var workers = Enumerable.Range(0, inFlight).Select(_ => WorkerAsync()).ToList();
        await Task.Delay(warmUp, cancellationToken);
        var clock = Stopwatch.StartNew();
        Volatile.Write(ref measuring, true);
        await Task.Delay(duration, cancellationToken);
        Volatile.Write(ref measuring, false);
        var elapsed = clock.Elapsed;
        Volatile.Write(ref stopping, true);
        await Task.WhenAll(workers);
        return new LoadResult(name, histogram.Count, histogram.Count / elapsed.TotalSeconds, histogram.PercentileMs(50), histogram.PercentileMs(99), errors);
    }
}
