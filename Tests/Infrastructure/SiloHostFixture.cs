using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Reliability.Client.Infrastructure;
using Reliability.Silo;

namespace Reliability.Tests.Infrastructure;

/// <summary>
/// A real silo process image in this process: the same <see cref="SiloApplication"/> as Silo.dll, on
/// free ports and a fresh PostgreSQL database, serving HTTP on Kestrel. The HTTP tests talk to it.
/// </summary>
public sealed class SiloHostFixture : IAsyncLifetime
{
    public const string AdminToken = "test-admin-token";

    private WebApplication? _app;

    public HttpClient Http { get; private set; } = null!;

    public string ConnectionString { get; private set; } = "";

    public IServiceProvider Services => _app!.Services;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.CreateAsync("http");
        var httpPort = FreePorts.Next();
        _app = await SiloApplication.CreateAsync(
        [
            $"--Database:ConnectionString={ConnectionString}",
            $"--Orleans:SiloPort={FreePorts.Next()}",
            $"--Orleans:GatewayPort={FreePorts.Next()}",
            $"--Http:Port={httpPort}",
            $"--Admin:Token={AdminToken}",
            "--Logging:Format=simple",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Orleans=Error",
        ]);
        await _app.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        for (var i = 0; i < 100 && !(await Http.GetAsync("/health/ready")).IsSuccessStatusCode; i++)
        {
            await Task.Delay(100);
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
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SiloHostCollection : ICollectionFixture<SiloHostFixture>
{
    public const string Name = "silo host";
}
