using System.Net;
using System.Net.Http.Headers;
using Npgsql;
using Reliability.Client.Infrastructure;
using Reliability.Silo;
using Reliability.Silo.Http;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Hostile;

/// <summary>The defaults that protect a silo exposed beyond loopback: the admin token, the dashboard, size limits, quiet logs.</summary>
[Collection(SiloHostCollection.Name)]
public sealed class SecurityTests(SiloHostFixture silo) : IDisposable
{
    private const string AdminPath = "/api/admin/ratelimit/policies/";
    private const string DashboardPath = "/dashboard/";

    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = silo.Http.BaseAddress };

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> GetAsync(string path, string? bearer = null, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", Guid.NewGuid().ToString("N"));
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        return await _http.SendAsync(request);
    }

    [Theory]
    [InlineData(AdminPath)]
    [InlineData(DashboardPath)]
    public async Task AdminSurface_WithoutAToken_Answers401ProblemWithBearerChallenge(string path)
    {
        using var response = await GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(AdminPath)]
    [InlineData(DashboardPath)]
    [InlineData(DashboardPath + "?token=wrong-token")]
    public async Task AdminSurface_WithAWrongToken_Answers403(string path)
    {
        using var response = await GetAsync(path, bearer: path.Contains('?') ? null : "wrong-token");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not valid", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(AdminPath)]
    [InlineData(DashboardPath)]
    public async Task AdminSurface_WithTheToken_Answers200(string path)
    {
        using var response = await GetAsync(path, bearer: SiloHostFixture.AdminToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_WithTheTokenInTheQuery_SetsAStrictHttpOnlyCookie_AndRedirectsToThePageWithoutIt()
    {
        using var response = await GetAsync($"{DashboardPath}?token={SiloHostFixture.AdminToken}&view=grains");

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal($"{DashboardPath}?view=grains", response.Headers.Location?.ToString());
        var cookie = response.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith(DashboardGuard.CookieName + "=", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(SiloHostFixture.AdminToken, cookie);

        using var followUp = await GetAsync(DashboardPath, cookie: cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, followUp.StatusCode);
    }

    [Fact]
    public async Task Dashboard_WithAForgedCookie_Answers403()
    {
        using var response = await GetAsync(DashboardPath, cookie: $"{DashboardGuard.CookieName}=0123456789ABCDEF");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task DashboardCookie_DoesNotOpenTheAdminEndpoints()
    {
        using var login = await GetAsync($"{DashboardPath}?token={SiloHostFixture.AdminToken}");
        var cookie = login.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        using var response = await GetAsync(AdminPath, cookie: cookie);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task OversizedBody_Answers413Problem()
    {
        var json = $$"""{"subject":"s","policy":"http-api","padding":"{{new string('p', 100 * 1024)}}"}""";
        using var response = await _http.SendAsync(silo.Request(HttpMethod.Post, "/api/ratelimit/check", json));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("too large", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OversizedHeaders_Answer431()
    {
        using var request = silo.Request(HttpMethod.Get, "/api/ratelimit/stats");
        request.Headers.Add("X-Padding", new string('h', 40 * 1024));

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task StartupLogs_DoNotContainTheDatabasePasswordOrTheAdminToken()
    {
        // A database of its own: a second cluster on the fixture's database would run its projections too.
        var connectionString = await TestDatabase.CreateAsync("logcheck");
        var password = new NpgsqlConnectionStringBuilder(connectionString).Password!;
        var token = $"log-check-token-{Guid.NewGuid():N}";
        var original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(TextWriter.Synchronized(captured));
        try
        {
            var app = await SiloApplication.CreateAsync(
            [
                $"--Database:ConnectionString={connectionString}",
                "--Orleans:SiloName=log-check",
                $"--Orleans:SiloPort={FreePorts.Next()}",
                $"--Orleans:GatewayPort={FreePorts.Next()}",
                $"--Http:Port={FreePorts.Next()}",
                $"--Admin:Token={token}",
                "--Logging:LogLevel:Default=Debug",
                "--Logging:LogLevel:Microsoft.AspNetCore=Information",
            ]);
            await app.StartAsync();
            await app.StopAsync();
            await app.DisposeAsync();
        }
        finally
        {
            Console.SetOut(original);
        }

        var logs = captured.ToString();
        Assert.Contains("log-check", logs);
        Assert.DoesNotContain(password, logs);
        Assert.DoesNotContain(token, logs);
    }
}
