using Microsoft.Extensions.Hosting;

namespace Reliability.Idempotency;

/// <summary>Makes sure the sweep reminder exists once this silo serves grains; retries until it does.</summary>
public sealed class IdempotencySweepStarter(IGrainFactory grains) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IIdempotencySweeperGrain>(IIdempotencySweeperGrain.DefaultKey).Ensure();
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }
}
