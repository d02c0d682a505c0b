using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reliability.Idempotency;
using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

public static class IdempotencyHosting
{
    /// <summary>The key state machine with its timings, and the start of the sweep. Safe to call twice.</summary>
    public static ISiloBuilder AddIdempotency(this ISiloBuilder silo, IdempotencyOptions? options = null)
    {
        var services = silo.Services;
        if (services.Any(d => d.ServiceType == typeof(IdempotencyStateMachine)))
        {
            return silo;
        }

        options ??= new IdempotencyOptions();
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new IdempotencyStateMachine(options));
        services.AddSingleton<IdempotencyMetrics>();
        services.AddStartupCall(grains => grains.GetGrain<IIdempotencySweeperGrain>(IIdempotencySweeperGrain.DefaultKey).Ensure());
        return silo;
    }
}
