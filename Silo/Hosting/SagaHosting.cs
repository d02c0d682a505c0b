using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;
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
        services.AddSingleton(sp => new HttpParticipant(ParticipantClient(), sp.GetRequiredService<IOptions<SagaOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(new WorkflowParser(options.Http));
        services.AddSingleton<IWorkflowStore>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Sagas)
            ? new PostgresWorkflowStore(sp.GetRequiredService<DatabaseOptions>())
            : new InMemoryWorkflowStore());
        services.AddSingleton<WorkflowCatalog>();
        services.AddSingleton<SagaMetrics>();
        services.AddEventStores();
        services.AddSingleton<ISagaStore>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Sagas)
            ? new PostgresSagaStore(sp.GetRequiredService<DatabaseOptions>())
            : new InMemorySagaStore());

        services.AddStartupCall(grains => grains.GetGrain<ISagaSupervisorGrain>(ISagaSupervisorGrain.DefaultKey).Ensure());

        return silo.AllowRemindersEvery(options.KeepAlivePeriod);
    }

    /// <summary>
    /// One client for every HTTP participant: redirects are not followed (an answer is classified as it is),
    /// connections are renewed every two minutes so a participant's DNS changes are seen, and the trace context
    /// is written by the participant caller itself, so every call carries exactly one traceparent.
    /// </summary>
    private static HttpClient ParticipantClient() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ActivityHeadersPropagator = null,
        UseCookies = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

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
