using System.Diagnostics;
using Reliability.Client.Infrastructure;
using Reliability.Client.Partition;
using Xunit.Abstractions;

namespace Reliability.Tests.Chaos;

/// <summary>
/// The short partition drill, as a user runs it: PostgreSQL and three silos on network namespaces of their
/// own, one silo cut from its peers for 20 s under the chaos load, healed, then every invariant checked.
/// These tests make namespaces and iptables rules, so they need root and iproute2/iptables (.ci/run
/// installs them); where namespaces cannot be made they fail saying so.
/// </summary>
public sealed class PartitionDrillTests(ITestOutputHelper output)
{
    private static string ClientAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
            var client = Path.Combine(RepositoryPaths.Root, "Client", "bin", configuration, "net10.0", "Client.dll");
            Assert.True(File.Exists(client), $"{client} is missing: build the solution ({configuration}) first.");
            return client;
        }
    }

    [Fact]
    public async Task ShortDrill_OneSiloCutFromItsPeers_KeepsEveryInvariant_AndReportsWhatEachSideSaw()
    {
        Assert.Null(await NetworkLab.WhyUnavailableAsync());

        var result = await ProcessRunner.RunAsync("dotnet", [ClientAssembly, "partition", "--faults", "isolate", "--cut-for", "20s"], TimeSpan.FromMinutes(8));

        output.WriteLine(result.Output);
        Assert.True(result.Succeeded, $"partition exited with {result.ExitCode}:{Environment.NewLine}{Tail(result.Output, 40)}");
        Assert.Contains("partition: all invariants held", result.Output);
        Assert.Contains("silo-3 cut from its peers (PostgreSQL still reachable)", result.Output);
        // The cut silo is declared dead by the majority, learns it from the membership table once healed, and stops.
        Assert.Contains("silo-3 found themselves declared dead, stopped, and were started again", result.Output);
        Assert.Matches(@"served while it held: cut side [\d.]+ % of \d+", result.Output);
        Assert.Matches(@"duplicate activations: \d+ of 12 probe keys had two activations at once", result.Output);
        Assert.DoesNotContain("VIOLATED", result.Output);
        Assert.Empty(await LabNamespacesAsync());
    }

    [Fact]
    public async Task ADrillKilledMidRun_LeavesNamespacesThatTheNextLabSweepsAway()
    {
        Assert.Null(await NetworkLab.WhyUnavailableAsync());
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { ClientAssembly, "partition", "--faults", "isolate" })
        {
            start.ArgumentList.Add(argument);
        }

        using var drill = Process.Start(start)!;
        drill.ErrorDataReceived += (_, _) => { };
        drill.BeginErrorReadLine();
        string? line;
        while ((line = await drill.StandardOutput.ReadLineAsync()) is not null && !line.Contains("network lab", StringComparison.Ordinal))
        {
        }

        Assert.NotNull(line);
        var pid = drill.Id;
        // The client alone, as a crash would: its silos stop by themselves (they watch their parent), the rest stays behind.
        drill.Kill();
        await drill.WaitForExitAsync();
        var left = await LabNamespacesAsync(pid);
        Assert.Equal(4, left.Count);

        await NetworkLab.SweepAbandonedAsync();
        await ManagedPostgres.SweepAbandonedAsync(Path.Combine(Path.GetTempPath(), "reliability-bench"));

        Assert.Empty(await LabNamespacesAsync(pid));
        var links = await ProcessRunner.RunAsync("ip", ["-o", "link", "show"], TimeSpan.FromSeconds(10));
        Assert.DoesNotContain($"rtk{pid}", links.Output);
    }

    [Theory]
    [InlineData("rtk123-silo-1", 123)]
    [InlineData("rtk123-postgres", 123)]
    [InlineData("rtk123br", 123)]
    [InlineData("rtk123v0", 123)]
    [InlineData("rtk7probe", 7)]
    [InlineData("rtk123vx", null)]
    [InlineData("rtk123", null)]
    [InlineData("rtkbr", null)]
    [InlineData("eth0", null)]
    [InlineData("docker0", null)]
    public void OnlyNamesALabMade_AreTakenForALabs(string name, int? owner) => Assert.Equal(owner, NetworkLab.OwnerOf(name));

    /// <summary>Namespaces named by a lab (of one owner, or of any).</summary>
    private static async Task<List<string>> LabNamespacesAsync(int? owner = null)
    {
        var list = await ProcessRunner.RunAsync("ip", ["netns", "list"], TimeSpan.FromSeconds(10));
        return list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ')[0])
            .Where(n => NetworkLab.OwnerOf(n) is { } pid && (owner is null || pid == owner))
            .ToList();
    }

    private static string Tail(string text, int lines) => string.Join(Environment.NewLine, text.Split('\n').TakeLast(lines));
}
