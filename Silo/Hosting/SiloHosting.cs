using Orleans.Configuration;
using Orleans.Dashboard;
using Reliability.Silo.Http;

namespace Reliability.Silo.Hosting;

public static class SiloHosting
{
    /// <summary>The Orleans silo of this process: identity, endpoints, clustering, storage, reminders, dashboard.</summary>
    public static WebApplicationBuilder AddToolkitSilo(this WebApplicationBuilder builder, ToolkitSettings settings)
    {
        var silo = settings.Silo;
        builder.UseOrleans(orleans =>
        {
            orleans.Configure<SiloOptions>(o => o.SiloName = silo.EffectiveSiloName);
            if (silo.Mode == SiloMode.Localhost)
            {
                orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId)
                    .AddToolkitInMemoryStorage();
            }
            else
            {
                orleans.Configure<ClusterOptions>(o =>
                    {
                        o.ClusterId = silo.ClusterId;
                        o.ServiceId = silo.ServiceId;
                    })
                    .ConfigureEndpoints(silo.ParsedAdvertisedAddress, silo.SiloPort, silo.GatewayPort)
                    .UseToolkitClustering(settings.Database)
                    .AddToolkitStorage(settings.Database)
                    .AddToolkitReminders(settings.Database);
                if (silo.GrainDirectory == GrainDirectoryKind.Distributed)
                {
#pragma warning disable ORLEANSEXP003 // Orleans marks the strongly consistent directory as for evaluation; the partition drills evaluate it.
                    orleans.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
                }
            }

            orleans.Services.AddSingleton<Reliability.Diagnostics.ActivationProbeLog>();

            orleans.AddRateLimiting();
            orleans.AddIdempotency(settings.Idempotency);
            orleans.AddSagas(settings.Sagas, serviceOptions: settings.Services);
            orleans.AddProjections(settings.Projections);
            orleans.AddDashboard();
            orleans.AddGrainCallTracing();
        });

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(settings.Http.ParsedBindAddress, settings.Http.Port);
            kestrel.Limits.MaxRequestBodySize = settings.HttpApi.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = settings.HttpApi.MaxRequestHeadersTotalBytes;
        });
        return builder;
    }

    /// <summary>The dashboard at /dashboard, behind the same rule as the admin endpoints (see <see cref="DashboardGuard"/>).</summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments(DashboardGuard.PathPrefix), dashboard => dashboard.UseMiddleware<DashboardGuard>());
        app.MapOrleansDashboard(routePrefix: DashboardGuard.PathPrefix);
        return app;
    }
}
