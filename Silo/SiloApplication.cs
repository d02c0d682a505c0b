using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Reliability.Silo.Hosting;
using Reliability.Silo.Http;
using Reliability.Silo.Http.Drills;
using Reliability.Silo.Http.Gateway;
using Reliability.Silo.Http.Idempotency;
using Reliability.Silo.Http.Projections;
using Reliability.Silo.Http.RateLimiting;
using Reliability.Silo.Http.Sagas;
using Reliability.Silo.RateLimitService;

namespace Reliability.Silo;

/// <summary>The silo process as a list of its parts: settings, the Orleans silo, then each capability's HTTP API.</summary>
public static class SiloApplication
{
    public static async Task<WebApplication> CreateAsync(string[] args, CancellationToken cancellationToken = default)
    {
        // The content root is the silo's own folder, wherever it is started from: appsettings.json lives there.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var settings = ToolkitSettings.Read(builder.Configuration);
        builder.Logging.AddToolkitLogging(builder.Configuration);
        using (var startupLogs = LoggerFactory.Create(logging => logging.AddToolkitLogging(builder.Configuration)))
        {
            await SiloPreflight.RunAsync(settings, startupLogs.CreateLogger("Reliability.Silo.Startup"), cancellationToken);
        }

        builder.Services.AddSingleton(settings);
        builder.Services.Configure<AdminOptions>(builder.Configuration.GetSection(AdminOptions.SectionName));
        builder.Services.AddSingleton(Options.Create(settings.HttpApi));
        builder.AddToolkitSilo(settings);
        builder.Services.AddToolkitHealth();
        builder.Services.AddToolkitProblems();
        builder.Services.AddSingleton<IdempotencyGuard>();
        builder.Services.AddToolkitGateway(settings.Gateway);
        builder.AddToolkitRateLimitService(settings.RateLimitService, settings.Http);
        builder.AddToolkitTelemetry(settings.Telemetry, settings.Silo);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddHostedService<ParentWatch>();

        var app = builder.Build();
        app.UseToolkitProblems();
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<HttpApiRateLimiter>());
        app.MapToolkitHealth();
        app.MapToolkitMetrics();
        app.MapDashboard();
        app.MapRateLimiting();
        app.MapCarts();
        app.MapIdempotencyClaims();
        app.MapSagas();
        app.MapWorkflows();
        app.MapProjections();
        app.MapStreams();
        app.MapScriptProjections();
        app.MapToolkitGateway();
        app.MapToolkitRateLimitService();
        app.MapDrills();
        return app;
    }

    /// <summary>For a schema step of its own (docker compose, DBAs): apply every store's schema and exit.</summary>
    public static async Task ApplySchemaAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var configuration = ReadConfiguration(args);
        var settings = ToolkitSettings.Read(configuration);
        using var logs = LoggerFactory.Create(logging => logging.AddToolkitLogging(configuration));
        await DatabaseStartup.PrepareAsync(settings.Database, logs.CreateLogger("Reliability.Silo.Schema"), cancellationToken);
    }

    /// <summary>True when this host's silo answers <c>/health/ready</c> with 200.</summary>
    public static async Task<bool> CheckReadyAsync(string[] args)
    {
        var http = new HttpSettings();
        ReadConfiguration(args).GetSection(HttpSettings.SectionName).Bind(http);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{http.Port}/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static IConfiguration ReadConfiguration(string[] args) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .AddCommandLine(args)
        .Build();
}
