using Reliability.RateLimiting;
using Reliability.Silo.Http;

namespace Reliability.Silo.RateLimitService;

/// <summary>
/// The rate-limit service's domains through the admin API: <c>PUT</c> a domain's YAML (the same format as the
/// files; refused with 400 naming the line and field), <c>GET</c> the list or one, <c>DELETE</c>. Every silo
/// uses a change within a second; an admin-set domain takes precedence over a file's of the same name.
/// </summary>
public static class RlsAdminEndpoints
{
    public const string Route = "/api/admin/ratelimit/rls/domains";

    public static WebApplication MapRlsAdmin(this WebApplication app)
    {
        var admin = app.MapGroup(Route).WithTags("Rate-limit service admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapGet("/", async (RlsConfigStore store, EnvoyRateLimitService service, IGrainFactory grains) =>
        {
            var set = await Registry(grains).GetAll();
            var current = store.Current;
            return Results.Ok(new
            {
                version = current.Version,
                fileError = store.LastError,
                failureModeAnswersOnThisSilo = service.Failures,
                domains = current.Domains.Values.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => new
                {
                    name = d.Name,
                    source = set.Domains.ContainsKey(d.Name) ? "admin" : d.Source,
                    descriptors = d.Descriptors.Length,
                }),
            });
        });
        admin.MapGet("/{domain}", async (string domain, IGrainFactory grains) =>
            (await Registry(grains).GetAll()).Domains.TryGetValue(domain, out var yaml)
                ? Results.Text(yaml, "application/yaml")
                : Problems.NotFound($"No domain '{domain}' was set through the admin API (domains from files are edited in their files)."));
        admin.MapPut("/{domain}", SetAsync);
        admin.MapDelete("/{domain}", async (string domain, IGrainFactory grains) =>
            await Registry(grains).Remove(domain) ? Results.NoContent() : Problems.NotFound($"No domain '{domain}' was set through the admin API."));
        return app;
    }

    private static async Task<IResult> SetAsync(string domain, HttpRequest request, IGrainFactory grains)
    {
        using var reader = new StreamReader(request.Body);
        var yaml = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        RlsDomain parsed;
        try
        {
            parsed = RlsConfigParser.Parse(yaml, $"admin:{domain}");
        }
        catch (RlsConfigException ex)
        {
            return Problems.BadRequest(new FieldError(ex.Field, $"line {ex.Line}: {ex.Reason}"));
        }

        if (parsed.Name != domain)
        {
            return Problems.BadRequest(new FieldError("domain", $"the YAML's domain is '{parsed.Name}', the path's '{domain}': they must be the same"));
        }

        var version = await Registry(grains).Set(domain, yaml);
        return Results.Ok(new { domain, descriptors = parsed.Descriptors.Length, registryVersion = version });
    }

    private static IRlsDomainRegistryGrain Registry(IGrainFactory grains) => grains.GetGrain<IRlsDomainRegistryGrain>(IRlsDomainRegistryGrain.DefaultKey);
}
