using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Reliability.Silo.Http.Gateway;

/// <summary>
/// The gateway's wiring: each <see cref="GatewayRoute"/> becomes a YARP route and cluster (load balancing,
/// active and passive health checks), and the proxy pipeline runs <see cref="GatewayIdempotency"/> before a
/// destination is picked. The route list is served at <c>GET /api/admin/gateway/routes</c>.
/// </summary>
public static class GatewayHosting
{
    public static IServiceCollection AddToolkitGateway(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(Options.Create(options));
        services.AddReverseProxy().LoadFromMemory(
            [.. options.Routes.Select(r => RouteOf(r.Key, r.Value))],
            [.. options.Routes.Select(r => ClusterOf(r.Key, r.Value))]);
        return services;
    }

    public static WebApplication MapToolkitGateway(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<GatewayIdempotency>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        app.MapGet("/api/admin/gateway/routes", (IOptions<GatewayOptions> gateway) => Results.Ok(new
        {
            maxStoredBodyBytes = gateway.Value.MaxStoredBodyBytes,
            storedHeaders = gateway.Value.KeptHeaders,
            routes = gateway.Value.Routes.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new
            {
                name = r.Key,
                pathPrefix = r.Value.PathPrefix,
                hosts = r.Value.Hosts ?? [],
                upstreams = r.Value.Upstreams,
                loadBalancing = r.Value.LoadBalancing,
                healthPath = r.Value.HealthPath,
                idempotency = r.Value.Idempotency,
                keyedMethods = r.Value.Methods,
                missingKey = r.Value.MissingKey,
                storeClientErrors = r.Value.StoreClientErrors,
                scopeHeader = r.Value.ScopeHeader,
                stripPrefix = r.Value.StripPrefix,
                timeout = r.Value.Timeout,
            }),
        })).WithTags("Gateway admin").AddEndpointFilter<AdminOnlyFilter>();
        return app;
    }

    private static RouteConfig RouteOf(string name, GatewayRoute route) => new()
    {
        RouteId = name,
        ClusterId = name,
        Match = new RouteMatch
        {
            Path = route.NormalizedPrefix == "/" ? "/{**rest}" : route.NormalizedPrefix + "/{**rest}",
            Hosts = route.Hosts is { Length: > 0 } hosts ? hosts : null,
        },
        Transforms = route.StripPrefix && route.NormalizedPrefix != "/"
            ? [new Dictionary<string, string> { ["PathRemovePrefix"] = route.NormalizedPrefix }]
            : null,
    };

    private static ClusterConfig ClusterOf(string name, GatewayRoute route) => new()
    {
        ClusterId = name,
        LoadBalancingPolicy = route.LoadBalancing,
        Destinations = route.Upstreams!.Select((address, i) => (address, i))
            .ToDictionary(d => $"{name}-{d.i + 1}", d => new DestinationConfig { Address = d.address }),
        HealthCheck = route.HealthPath is null ? null : new HealthCheckConfig
        {
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = route.HealthInterval,
                Timeout = route.HealthInterval < TimeSpan.FromSeconds(5) ? route.HealthInterval : TimeSpan.FromSeconds(5),
                Policy = "ConsecutiveFailures",
                Path = route.HealthPath,
            },
            Passive = new PassiveHealthCheckConfig { Enabled = true },
        },
        HttpRequest = new ForwarderRequestConfig { ActivityTimeout = route.Timeout },
    };
}
