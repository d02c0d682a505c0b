using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Reliability.Infrastructure;

/// <summary>
/// A grain call every silo makes once it serves grains, retried until it succeeds: used to make sure the
/// cluster's reminder-driven singletons (the idempotency sweep, the saga supervisor) are registered.
/// </summary>
public sealed class StartupCall(IGrainFactory grains, Func<IGrainFactory, Task> call) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await call(grains);
                return;
            }
            catch (Exception) when (!stoppingToken.IsCancellationRequested)
            {
                // A call cancelled by the runtime (not by this silo's stop) is retried like any other failure.
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }
}

public static class StartupCallExtensions
{
    public static IServiceCollection AddStartupCall(this IServiceCollection services, Func<IGrainFactory, Task> call) =>
        services.AddSingleton<IHostedService>(sp => new StartupCall(sp.GetRequiredService<IGrainFactory>(), call));
}
