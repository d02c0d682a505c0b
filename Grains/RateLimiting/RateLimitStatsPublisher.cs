using Microsoft.Extensions.Hosting;

namespace Reliability.RateLimiting;

/// <summary>Reports this silo's decision totals to the stats grain every two seconds, so the client sees cluster-wide numbers.</summary>
public sealed class RateLimitStatsPublisher(IGrainFactory grains, RateLimitMetrics metrics, ILocalSiloDetails silo, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var totals = metrics.Snapshot();
            if (totals.Count == 0)
            {
                continue;
            }

            try
            {
                await grains.GetGrain<IRateLimitStatsGrain>(IRateLimitStatsGrain.DefaultKey).Report(silo.Name, totals);
            }
            catch (Exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Best effort, whatever failed (a cancelled call included): the next report carries the same totals.
            }
        }
    }
}
