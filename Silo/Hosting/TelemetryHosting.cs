using System.Net;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Reliability.Infrastructure;
using Reliability.Silo.Http;

namespace Reliability.Silo.Hosting;

public static class TelemetryHosting
{
    /// <summary>
    /// Metrics of Orleans, ASP.NET Core, HttpClient, the runtime, Npgsql and each capability; traces of the
    /// same when an exporter (or <see cref="TelemetryOptions.Traces"/>) asks for them, carried through
    /// grain calls by <see cref="GrainCallTracing"/>.
    /// </summary>
    public static WebApplicationBuilder AddToolkitTelemetry(this WebApplicationBuilder builder, TelemetryOptions options, SiloSettings silo)
    {
        var configuration = builder.Configuration;
        var exportMetrics = TelemetryOptions.OtlpConfigured(configuration, "metrics");
        var exportTraces = TelemetryOptions.OtlpConfigured(configuration, "traces");
        builder.Services.AddSingleton(Options.Create(options));
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(serviceName: configuration["OTEL_SERVICE_NAME"] ?? "reliability-silo", serviceInstanceId: silo.EffectiveSiloName)
                .AddAttributes([new("service.namespace", silo.ServiceId), new("orleans.cluster", silo.ClusterId)]))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("Microsoft.Orleans")
                    .AddMeter(ToolkitTelemetry.Names)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (exportMetrics)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (exportTraces || options.Traces)
        {
            telemetry.WithTracing(traces =>
            {
                traces.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SamplingRatio)))
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", GrainCallTracing.SourceName)
                    .AddSource(ToolkitTelemetry.Names)
                    .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/metrics") && !http.Request.Path.StartsWithSegments("/health"))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql();
                if (exportTraces)
                {
                    traces.AddOtlpExporter();
                }
            });
        }

        return builder;
    }

    /// <summary>Grain-call spans for traced calls only (see <see cref="GrainCallTracing"/>), in place of Orleans' <c>AddActivityPropagation()</c>.</summary>
    public static ISiloBuilder AddGrainCallTracing(this ISiloBuilder silo) =>
        silo.AddIncomingGrainCallFilter<TracedIncomingGrainCalls>().AddOutgoingGrainCallFilter<TracedOutgoingGrainCalls>();

    /// <summary>
    /// <c>/metrics</c> for Prometheus: loopback scrapers need nothing, others pass the admin rule (the admin
    /// token as a bearer token; see <see cref="AdminAccess"/>).
    /// </summary>
    public static WebApplication MapToolkitMetrics(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.Prometheus)
        {
            return app;
        }

        app.MapPrometheusScrapingEndpoint("/metrics").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var remote = http.Connection.RemoteIpAddress;
            if (remote is not null && IPAddress.IsLoopback(remote))
            {
                return await next(context);
            }

            var admin = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
            return AdminAccess.Check(http, admin.Token, AdminAccess.BearerToken(http.Request)) is { } denied ? denied : await next(context);
        });
        return app;
    }
}
