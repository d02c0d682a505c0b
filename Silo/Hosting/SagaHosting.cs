using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services.EventStore;

namespace Reliability.Silo.Hosting;

public static class SagaHosting
{
    /// <summary>
    /// The participant services' event stores, the saga store, the orchestration logic and its fault
    /// injection. PostgreSQL when a database is configured, memory otherwise (Localhost mode). Safe to call twice.
    /// </summary>
    public static ISiloBuilder AddSagas(this ISiloBuilder silo, SagaOptions? options = null, int? faultSeed = null)
    {
        var services = silo.Services;
        if (services.Any(d => d.ServiceType == typeof(SagaMachine)))
        {
            return silo;
        }

        options ??= new SagaOptions();
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new SagaMachine(options));
        services.AddSingleton(new FaultDice(faultSeed));
        services.AddSingleton<IParticipantGateway, ParticipantGateway>();
        services.AddSingleton<IEventStores>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Orders)
            ? new PostgresEventStores(sp.GetRequiredService<DatabaseOptions>())
            : new InMemoryEventStores(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ISagaStore>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Sagas)
            ? new PostgresSagaStore(sp.GetRequiredService<DatabaseOptions>())
            : new InMemorySagaStore());

        services.AddStartupCall(grains => grains.GetGrain<ISagaSupervisorGrain>(ISagaSupervisorGrain.DefaultKey).Ensure());

        // The supervisor's reminder may tick faster than Orleans' one-minute default minimum.
        silo.Configure<ReminderOptions>(o =>
        {
            if (o.MinimumReminderPeriod > options.KeepAlivePeriod)
            {
                o.MinimumReminderPeriod = options.KeepAlivePeriod;
            }
        });
        return silo;
    }
}
