using Reliability.Diagnostics;

namespace Reliability.Silo.Http.Drills;

/// <summary>
/// Endpoints only the partition drills use, mapped only with <c>Drills:ActivationProbes=true</c> and behind
/// the admin rule: <c>POST /api/admin/drills/activation-probes/{key}</c> calls the probe grain of that key
/// through the silo that received the request.
/// </summary>
public static class DrillEndpoints
{
    public const string Setting = "Drills:ActivationProbes";

    public static WebApplication MapDrills(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>(Setting))
        {
            return app;
        }

        app.MapPost("/api/admin/drills/activation-probes/{key}", async (string key, IGrainFactory grains) =>
                TypedResults.Ok(await grains.GetGrain<IActivationProbeGrain>(key).Touch()))
            .WithTags("Drills").AddEndpointFilter<AdminOnlyFilter>();
        return app;
    }
}
