using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace Reliability.Projections;

/// <summary>Told by event-sourced grains (and by appends over HTTP) that their store has new events, so the projections reading it run now rather than at their next poll.</summary>
public interface IProjectionNudger
{
    void Appended(string store);
}

/// <summary>
/// One per silo. Appends only raise a flag per projection; a loop sends each flagged runner one one-way
/// nudge, so a burst of appends costs the runner a handful of messages, and an append never waits on it.
/// A lost nudge costs at most the runners' poll interval.
/// </summary>
public sealed class ProjectionNudger(IGrainFactory grains, Scripts.OpenCatalog catalog) : BackgroundService, IProjectionNudger
{
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly int[] _flags = new int[ProjectionDefinitions.All.Count];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _scripts = new(StringComparer.Ordinal);

    public void Appended(string store)
    {
        for (var i = 0; i < _flags.Length; i++)
        {
            if (ProjectionDefinitions.All[i].Sources.Contains(store))
            {
                Volatile.Write(ref _flags[i], 1);
            }
        }

        foreach (var script in catalog.ReadersOf(store))
        {
            _scripts[script] = true;
        }

        _signal.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _signal.Reader.WaitToReadAsync(stoppingToken))
            {
                _signal.Reader.TryRead(out _);
                for (var i = 0; i < _flags.Length; i++)
                {
                    if (Interlocked.Exchange(ref _flags[i], 0) == 1)
                    {
                        Send(ProjectionDefinitions.All[i].Name);
                    }
                }

                foreach (var script in _scripts.Keys)
                {
                    if (_scripts.TryRemove(script, out _))
                    {
                        Send(script);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Send(string projection)
    {
        try
        {
            _ = grains.GetGrain<IProjectionRunnerGrain>(projection).Nudge();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The silo is shutting down or the runner's silo is unknown for a moment: the poll picks it up.
        }
    }
}
