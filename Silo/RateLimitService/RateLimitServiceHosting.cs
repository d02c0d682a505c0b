using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.RateLimitService;

/// <summary>
/// Envoy's rate-limit service on its own HTTP/2 port (<c>RateLimitService:Port</c>, h2c unless a
/// certificate is set), with the standard gRPC health service (<c>grpc.health.v1.Health</c>, reporting the
/// silo's readiness). Port 0 leaves it out.
/// </summary>
public static class RateLimitServiceHosting
{
    public static WebApplicationBuilder AddToolkitRateLimitService(this WebApplicationBuilder builder, RateLimitServiceOptions options, HttpSettings http)
    {
        builder.Services.AddSingleton(Options.Create(options));
        if (options.Port == 0)
        {
            return builder;
        }

        builder.Services.AddSingleton<RlsConfigStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RlsConfigStore>());
        builder.Services.AddSingleton<EnvoyRateLimitService>();
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(http.ParsedBindAddress, options.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (options.CertificatePath is { } certificate)
            {
                listen.UseHttps(certificate, options.CertificatePassword);
            }
        }));
        return builder;
    }

    public static WebApplication MapToolkitRateLimitService(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<RateLimitServiceOptions>>().Value;
        if (options.Port == 0)
        {
            return app;
        }

        app.MapGrpcService<EnvoyRateLimitService>().RequireHost($"*:{options.Port}");
        app.MapGrpcHealthChecksService().RequireHost($"*:{options.Port}");
        app.MapRlsAdmin();
        return app;
    }
}
