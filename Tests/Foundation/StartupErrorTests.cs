using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Reliability.Client.Infrastructure;
using Reliability.Infrastructure;
using Reliability.Silo.Hosting;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Foundation;

public sealed class StartupErrorTests
{
    [Fact]
    public void Settings_WithoutConnectionString_NameTheSettingAndTheAlternatives()
    {
        var error = Assert.Throws<StartupException>(() => ToolkitSettings.Read(Configuration()));

        Assert.Contains("Database:ConnectionString", error.Message);
        Assert.Contains("Localhost", error.Message);
    }

    [Theory]
    [InlineData("Orleans:SiloPort", "0")]
    [InlineData("Orleans:GatewayPort", "70000")]
    [InlineData("Http:Port", "-1")]
    [InlineData("Orleans:AdvertisedAddress", "no-such-host.invalid")]
    [InlineData("Telemetry:SamplingRatio", "1.5")]
    [InlineData("Telemetry:SamplingRatio", "-0.1")]
    public void Settings_WithAnInvalidValue_NameTheSetting(string setting, string value)
    {
        var error = Assert.Throws<StartupException>(() => ToolkitSettings.Read(Configuration(
            ("Database:ConnectionString", "Host=127.0.0.1;Database=x"), (setting, value))));

        Assert.Contains(setting, error.Message);
    }

    [Fact]
    public async Task Preflight_WhenTheHttpPortIsTaken_NamesHttpPort()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var settings = ToolkitSettings.Read(Configuration(("Orleans:Mode", "Localhost"), ("Http:Port", port.ToString())));

        var error = await Assert.ThrowsAsync<StartupException>(() => SiloPreflight.RunAsync(settings, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("Http:Port", error.Message);
        Assert.Contains(port.ToString(), error.Message);
    }

    [Fact]
    public async Task DatabaseStartup_WithAWrongPassword_FailsAtOnceNamingTheSetting()
    {
        var good = new NpgsqlConnectionStringBuilder(await TestDatabase.CreateAsync("wrong-password")) { Password = "not-the-password" };

        var error = await Assert.ThrowsAsync<StartupException>(() => DatabaseStartup.PrepareAsync(
            new DatabaseOptions { ConnectionString = good.ConnectionString }, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("authentication failed", error.Message);
        Assert.Contains("Database:ConnectionString", error.Message);
    }

    [Fact]
    public async Task DatabaseStartup_WhenNothingListens_RetriesUntilTheTimeoutThenSaysUnreachable()
    {
        var database = new DatabaseOptions
        {
            ConnectionString = $"Host=127.0.0.1;Port={FreePorts.Next()};Database=x;Username=u;Password=p;Timeout=1",
            StartupTimeout = TimeSpan.FromSeconds(2),
        };

        var error = await Assert.ThrowsAsync<StartupException>(() => DatabaseStartup.PrepareAsync(database, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("not reachable after 2 s", error.Message);
    }

    [Fact]
    public async Task SiloProcess_WithoutConnectionString_ExitsWithCodeTwoAndOneLineWithoutStackTrace()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [RepositoryPaths.SiloAssembly(), $"--Http:Port={FreePorts.Next()}"], TimeSpan.FromSeconds(60));

        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(lines);
        Assert.StartsWith("silo: Database:ConnectionString is not set", lines[0]);
        Assert.DoesNotContain(" at ", result.Output);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();
}
