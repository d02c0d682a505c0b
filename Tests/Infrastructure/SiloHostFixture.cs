using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Reliability.Client.Gateway;
using Reliability.Client.Infrastructure;
using Reliability.Silo;

namespace Reliability.Tests.Infrastructure;

/// <summary>
/// Three real silos in this process: the same <see cref="SiloApplication"/> as Silo.dll, each on free
/// ports, one fresh PostgreSQL database, HTTP on Kestrel. The HTTP tests talk to them.
/// </summary>
public sealed class SiloHostFixture : IAsyncLifetime
{
    public const string AdminToken = "test-admin-token";
    public const int SiloCount = 3;

    private readonly List<WebApplication> _apps = [];
    private readonly List<HttpClient> _clients = [];
    private readonly string[] _rlsUrls = new string[SiloCount];

    /// <summary>Where the silos read their Envoy rate-limit service configuration (a folder the tests write YAML files into).</summary>
    public string RlsConfigFolder { get; } = Directory.CreateTempSubdirectory("reliability-rls-").FullName;

    /// <summary>Each silo's Envoy rate-limit service (gRPC over h2c).</summary>
    public IReadOnlyList<string> RlsUrls => _rlsUrls;

    /// <summary>The first silo's HTTP API.</summary>
    public HttpClient Http => _clients[0];

    public IReadOnlyList<HttpClient> Silos => _clients;

    public string ConnectionString { get; private set; } = "";

    public IServiceProvider Services => _apps[0].Services;

    /// <summary>
    /// The demo upstream in a process of its own, behind the gateway routes <c>/shop</c> (keys required, 4xx not
    /// stored) and <c>/lenient</c> (a missing key passes through, 4xx stored); <c>/dead</c> leads nowhere.
    /// </summary>
    public UpstreamProcess Upstream { get; private set; } = null!;

    public DemoUpstreamClient UpstreamClient { get; private set; } = null!;

    /// <summary>Short enough for a test to outwait, long enough for any real request.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    public async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.CreateAsync("http");
        Upstream = await UpstreamProcess.StartAsync();
        UpstreamClient = new DemoUpstreamClient(Upstream.Address);
        var deadPort = FreePorts.Next();
        var starting = Enumerable.Range(0, SiloCount).Select(async i =>
        {
            var httpPort = FreePorts.Next();
            var rlsPort = FreePorts.Next();
            _rlsUrls[i] = $"http://127.0.0.1:{rlsPort}";
            var app = await SiloApplication.CreateAsync(
            [
                $"--Database:ConnectionString={ConnectionString}",
                $"--Orleans:SiloName=http-silo-{i}",
                $"--Orleans:SiloPort={FreePorts.Next()}",
                $"--Orleans:GatewayPort={FreePorts.Next()}",
                $"--Http:Port={httpPort}",
                $"--RateLimitService:Port={rlsPort}",
                $"--RateLimitService:ConfigPath={RlsConfigFolder}",
                // The tests check decisions, not the 15 ms budget: a loaded test machine must not answer by the failure mode.
                "--RateLimitService:Timeout=00:00:05",
                $"--Admin:Token={AdminToken}",
                $"--Idempotency:Lease={Lease}",
                "--Gateway:Routes:shop:PathPrefix=/shop",
                $"--Gateway:Routes:shop:Upstreams:0={Upstream.Address}",
                "--Gateway:Routes:shop:StripPrefix=true",
                "--Gateway:Routes:lenient:PathPrefix=/lenient",
                $"--Gateway:Routes:lenient:Upstreams:0={Upstream.Address}",
                "--Gateway:Routes:lenient:StripPrefix=true",
                "--Gateway:Routes:lenient:MissingKey=PassThrough",
                "--Gateway:Routes:lenient:StoreClientErrors=true",
                "--Gateway:Routes:dead:PathPrefix=/dead",
                $"--Gateway:Routes:dead:Upstreams:0=http://127.0.0.1:{deadPort}",
                "--Logging:Format=simple",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:Orleans=Error",
            ]);
            await app.StartAsync();
            return (app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") });
        }).ToList();
        foreach (var (app, client) in await Task.WhenAll(starting))
        {
            _apps.Add(app);
            _clients.Add(client);
        }

        foreach (var client in _clients)
        {
            for (var i = 0; i < 100 && !(await client.GetAsync("/health/ready")).IsSuccessStatusCode; i++)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A request with a fresh API key, so that tests do not share the API's own per-caller limit.</summary>
    public HttpRequestMessage Request(HttpMethod method, string path, string? json = null, bool admin = false, string? apiKey = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", apiKey ?? Guid.NewGuid().ToString("N"));
        if (admin)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, MediaTypeHeaderValue.Parse("application/json"));
        }

        return request;
    }

    public async Task DisposeAsync()
    {
        UpstreamClient.Dispose();
        await Upstream.DisposeAsync();
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await Task.WhenAll(_apps.Select(async app =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }));
    }
}

[CollectionDefinition(Name)]
public sealed class SiloHostCollection : ICollectionFixture<SiloHostFixture>
{
    public const string Name = "silo host";
}
