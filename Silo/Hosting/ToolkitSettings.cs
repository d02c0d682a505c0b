using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Silo.Http.Gateway;
using Reliability.Silo.RateLimitService;

namespace Reliability.Silo.Hosting;

/// <summary>All settings a silo reads at start, bound and validated once.</summary>
public sealed record ToolkitSettings(SiloSettings Silo, HttpSettings Http, HttpApiOptions HttpApi, DatabaseOptions Database, IdempotencyOptions Idempotency, SagaOptions Sagas, ServiceOptions Services, ProjectionOptions Projections, GatewayOptions Gateway, RateLimitServiceOptions RateLimitService, TelemetryOptions Telemetry)
{
    public static ToolkitSettings Read(IConfiguration configuration)
    {
        var silo = Bind<SiloSettings>(configuration, SiloSettings.SectionName);
        var http = Bind<HttpSettings>(configuration, HttpSettings.SectionName);
        var httpApi = Bind<HttpApiOptions>(configuration, HttpSettings.SectionName);
        var database = Bind<DatabaseOptions>(configuration, DatabaseOptions.SectionName);
        var idempotency = Bind<IdempotencyOptions>(configuration, IdempotencyOptions.SectionName);
        var sagas = Bind<SagaOptions>(configuration, SagaOptions.SectionName);
        var services = Bind<ServiceOptions>(configuration, ServiceOptions.SectionName);
        var projections = Bind<ProjectionOptions>(configuration, ProjectionOptions.SectionName);
        var gateway = Bind<GatewayOptions>(configuration, GatewayOptions.SectionName);
        var rateLimitService = Bind<RateLimitServiceOptions>(configuration, RateLimitServiceOptions.SectionName);
        var telemetry = Bind<TelemetryOptions>(configuration, TelemetryOptions.SectionName);
        silo.Validate();
        http.Validate();
        httpApi.Validate();
        idempotency.Validate();
        if (string.IsNullOrWhiteSpace(sagas.Http.CallbackBaseUrl))
        {
            var host = http.BindAddress is "0.0.0.0" or "::" ? "127.0.0.1" : http.BindAddress;
            sagas.Http.CallbackBaseUrl = $"http://{(host.Contains(':') ? $"[{host}]" : host)}:{http.Port}";
        }

        sagas.Validate();
        services.Validate();
        projections.Validate();
        gateway.Validate();
        rateLimitService.Validate();
        telemetry.Validate();
        if (silo.Mode == SiloMode.Postgres && string.IsNullOrWhiteSpace(database.ConnectionString) && database.Stores.Count == 0)
        {
            throw new StartupException(
                "Database:ConnectionString is not set. Pass --Database:ConnectionString \"Host=…;Database=…;Username=…;Password=…\" " +
                "(or the environment variable Database__ConnectionString), or use --Orleans:Mode=Localhost for in-memory storage.");
        }

        return new ToolkitSettings(silo, http, httpApi, database, idempotency, sagas, services, projections, gateway, rateLimitService, telemetry);
    }

    private static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var value = new T();
        try
        {
            configuration.GetSection(section).Bind(value);
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupException($"Section '{section}' has a value of the wrong type: {ex.Message}");
        }

        return value;
    }
}
