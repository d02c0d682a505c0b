using System.Diagnostics;
using Reliability.Client.Infrastructure;

namespace Reliability.Tests.Foundation;

/// <summary>Silo.dll started from a folder other than its own, as `up`, the benchmarks and a user's shell do.</summary>
public sealed class SiloProcessSettingsTests
{
    [Fact]
    public async Task StartedFromAnotherFolder_TheSiloStillReadsItsAppSettings()
    {
        var httpPort = FreePorts.Next();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetTempPath(), RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
                 {
                     RepositoryPaths.SiloAssembly(), "--Orleans:Mode=Localhost", $"--Orleans:SiloPort={FreePorts.Next()}",
                     $"--Orleans:GatewayPort={FreePorts.Next()}", $"--Http:Port={httpPort}", $"--RateLimitService:Port={FreePorts.Next()}", $"--Lifetime:ExitWithParent={Environment.ProcessId}",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var silo = Process.Start(start)!;
        var output = silo.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var ready = false;
        for (var i = 0; i < 120 && !ready && !silo.HasExited; i++)
        {
            try
            {
                ready = (await http.GetAsync($"http://127.0.0.1:{httpPort}/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(250);
            }
        }

        silo.Kill();
        await silo.WaitForExitAsync();
        var log = await output;

        Assert.True(ready, "the silo never became ready");
        // appsettings.json puts Microsoft.AspNetCore at Warning: no line per request.
        Assert.DoesNotContain("Microsoft.AspNetCore.Hosting.Diagnostics", log);
    }
}
