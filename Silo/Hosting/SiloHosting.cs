using Orleans.Configuration;
using Orleans.Dashboard;

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
            }

            orleans.AddRateLimiting();
            orleans.AddIdempotency(settings.Idempotency);
            orleans.AddSagas(settings.Sagas);
            orleans.AddProjections(settings.Projections);
            orleans.AddDashboard();
        });

        var maxBody = builder.Configuration.GetSection(HttpSettings.SectionName).Get<HttpApiOptions>()?.MaxRequestBodyBytes ?? new HttpApiOptions().MaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(settings.Http.ParsedBindAddress, settings.Http.Port);
            kestrel.Limits.MaxRequestBodySize = maxBody;
        });
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        return app;
    }
}
