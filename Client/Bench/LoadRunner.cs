using System.Diagnostics;
using Spectre.Console;

namespace Reliability.Client.Bench;

public sealed record LoadResult(string Name, long Operations, double PerSecond, double P50Ms, double P99Ms, long Errors);

/// <summary>A scenario over several rounds: the round with the median throughput (its latencies with it, errors summed over all rounds), and every round.</summary>
public sealed record RoundsResult(LoadResult Median, IReadOnlyList<LoadResult> Rounds);

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

    /// <summary>
    /// Runs the scenarios in turn, round after round (so a slow moment of the machine does not fall on one
    /// scenario only), with <paramref name="warmUp"/> before each scenario's first round and 1 s before the
    /// others; <paramref name="beforeEach"/> runs before every run. Results in the scenarios' order.
    /// </summary>
    public static async Task<IReadOnlyList<RoundsResult>> RunRoundsAsync(
        IReadOnlyList<(string Name, Func<long, ValueTask> Operation)> scenarios, int rounds, int inFlight, TimeSpan warmUp, TimeSpan duration,
        CancellationToken cancellationToken, Action? beforeEach = null)
    {
        var results = scenarios.Select(_ => new List<LoadResult>()).ToList();
        for (var round = 1; round <= rounds; round++)
        {
            for (var i = 0; i < scenarios.Count; i++)
            {
                var (name, operation) = scenarios[i];
                beforeEach?.Invoke();
                var result = await AnsiConsole.Status().StartAsync($"round {round}/{rounds}: {name}…",
                    _ => RunAsync(name, inFlight, round == 1 ? warmUp : TimeSpan.FromSeconds(1), duration, operation, cancellationToken));
                results[i].Add(result);
            }
        }

        return [.. results.Select(r => new RoundsResult(r.OrderBy(x => x.PerSecond).ElementAt(r.Count / 2) with { Errors = r.Sum(x => x.Errors) }, r))];
    }

    /// <summary>The median of each scenario, with the throughput of every round.</summary>
    public static Table RoundsTable(IEnumerable<RoundsResult> results)
    {
        var table = new Table().AddColumns("scenario", "ops/s (median)", "p50 ms", "p99 ms", "errors", "ops/s of each round");
        foreach (var (median, rounds) in results)
        {
            table.AddRow(median.Name, median.PerSecond.ToString("N0"), median.P50Ms.ToString("0.00"), median.P99Ms.ToString("0.00"), median.Errors.ToString(),
                string.Join(" ", rounds.Select(x => (x.PerSecond / 1000).ToString("0.0") + "k")));
        }

        return table;
    }
}
