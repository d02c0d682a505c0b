using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Services.EventStore;

namespace Reliability.Silo.Hosting;

public static class SagaHosting
{
    /// <summary>
    /// The participant services (their event stores and how much they keep), the saga store, the orchestration logic and its fault
    /// injection. PostgreSQL when a database is configured, memory otherwise (Localhost mode). Safe to call twice.
    /// </summary>
    public static ISiloBuilder AddSagas(this ISiloBuilder silo, SagaOptions? options = null, int? faultSeed = null, ServiceOptions? serviceOptions = null)
    {
        var services = silo.Services;
        if (services.Any(d => d.ServiceType == typeof(SagaMachine)))
        {
            return silo;
        }

        options ??= new SagaOptions();
        options.Validate();
        serviceOptions ??= new ServiceOptions();
        serviceOptions.Validate();
        services.AddSingleton(Options.Create(serviceOptions));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new SagaMachine(options));
        services.AddSingleton(new FaultDice(faultSeed));
        services.AddSingleton<IParticipantGateway, ParticipantGateway>();
        services.AddSingleton<SagaMetrics>();
        services.AddEventStores();
        services.AddSingleton<ISagaStore>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Sagas)
            ? new PostgresSagaStore(sp.GetRequiredService<DatabaseOptions>())
            : new InMemorySagaStore());

        services.AddStartupCall(grains => grains.GetGrain<ISagaSupervisorGrain>(ISagaSupervisorGrain.DefaultKey).Ensure());

        return silo.AllowRemindersEvery(options.KeepAlivePeriod);
    }

    /// <summary>The services' event stores (PostgreSQL when configured, memory otherwise), shared by the sagas and the projections.</summary>
    public static IServiceCollection AddEventStores(this IServiceCollection services)
    {
        services.TryAddSingleton<IEventStores>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Orders)
            ? new PostgresEventStores(sp.GetRequiredService<DatabaseOptions>())
            : new InMemoryEventStores(sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>Lets reminders tick as fast as <paramref name="period"/>, below Orleans' one-minute default minimum.</summary>
    public static ISiloBuilder AllowRemindersEvery(this ISiloBuilder silo, TimeSpan period) =>
        silo.Configure<ReminderOptions>(o =>
        {
            if (o.MinimumReminderPeriod > period)
            {
                o.MinimumReminderPeriod = period;
            }
        });
}
