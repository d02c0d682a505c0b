using Reliability.Client.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Chaos;

/// <summary>
/// The short chaos run, exactly as a user runs it: the client starts its own PostgreSQL and three silo
/// processes, kills a silo with SIGKILL, pauses one with SIGSTOP past failure detection (a zombie),
/// crashes PostgreSQL (immediate shutdown) and restarts it cleanly under load, and exits non-zero if any
/// invariant (carts, sagas, money, stock, views, rate limits, full bodies, zombies stopping) does not hold.
/// </summary>
public sealed class ChaosRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ShortChaosRun_KeepsEveryInvariant()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
        var client = Path.Combine(RepositoryPaths.Root, "Client", "bin", configuration, "net10.0", "Client.dll");
        Assert.True(File.Exists(client), $"{client} is missing: build the solution ({configuration}) first.");

        var result = await ProcessRunner.RunAsync("dotnet", [client, "chaos", "--duration", "60s", "--kill-every", "15s"], TimeSpan.FromMinutes(8));

        output.WriteLine(result.Output);
        Assert.True(result.Succeeded, $"chaos exited with {result.ExitCode}:{Environment.NewLine}{Tail(result.Output, 40)}");
        Assert.Contains("all invariants held", result.Output);
        Assert.Contains("pausing silo-", result.Output);
        Assert.Contains("crashing PostgreSQL", result.Output);
        Assert.DoesNotContain("VIOLATED", result.Output);
    }

    private static string Tail(string text, int lines) => string.Join(Environment.NewLine, text.Split('\n').TakeLast(lines));
}
