using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Projections.Scripts;

namespace Reliability.Silo.Hosting;

public static class ProjectionHosting
{
    /// <summary>
    /// The projection runners' store (checkpoints, generations, parked events), the catalog of open stores
    /// and JavaScript projections, the per-silo nudger, and a
    /// start of every runner from every silo. PostgreSQL when configured, memory otherwise. Safe to call twice.
    /// </summary>
    public static ISiloBuilder AddProjections(this ISiloBuilder silo, ProjectionOptions? options = null)
    {
        var services = silo.Services;
        if (services.Any(d => d.ServiceType == typeof(IProjectionNudger)))
        {
            return silo;
        }

        options ??= new ProjectionOptions();
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddEventStores();
        services.AddSingleton<IProjectionStore>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Projections)
            ? new PostgresProjectionStore(sp.GetRequiredService<DatabaseOptions>())
            : new InMemoryProjectionStore());
        services.AddSingleton<IOpenCatalogStore>(sp => sp.GetRequiredService<DatabaseOptions>().IsConfigured(StoreNames.Projections)
            ? new PostgresOpenCatalogStore(sp.GetRequiredService<DatabaseOptions>())
            : new InMemoryOpenCatalogStore(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new OpenCatalog(
            sp.GetRequiredService<IOpenCatalogStore>(),
            OpenCatalog.SchemaMaker(sp.GetRequiredService<DatabaseOptions>()),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<StreamIngestion>();
        services.AddSingleton<ProjectionMetrics>();
        services.AddSingleton<ProjectionNudger>();
        services.AddSingleton<IProjectionNudger>(sp => sp.GetRequiredService<ProjectionNudger>());
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionNudger>());
        foreach (var projection in ProjectionDefinitions.Names)
        {
            services.AddStartupCall(grains => grains.GetGrain<IProjectionRunnerGrain>(projection).Ensure());
        }

        return silo.AllowRemindersEvery(options.KeepAlivePeriod);
    }
}
