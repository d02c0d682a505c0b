using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Reliability.Client.Commands;

/// <summary>The membership table as the cluster sees it, with live activation counts of the active silos.</summary>
public static class ClusterStatusView
{
    public static async Task<IRenderable> RenderAsync(ClusterConnection connection)
    {
        var management = connection.Client.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: false);
        var recent = DateTime.UtcNow - TimeSpan.FromMinutes(10);
        var shown = hosts
            .Where(h => h.Status != SiloStatus.Dead || h.IAmAliveTime > recent)
            .OrderBy(h => h.SiloName, StringComparer.Ordinal).ThenBy(h => h.StartTime)
            .ToList();
        var active = shown.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloAddress).ToArray();
        var statistics = active.Length == 0 ? [] : await management.GetRuntimeStatistics(active);
        var activations = active.Zip(statistics).ToDictionary(p => p.First, p => p.Second.ActivationCount);

        var table = new Table().Title($"cluster [bold]{connection.Target.ClusterId}[/] (membership at {connection.Target.Describe()})")
            .AddColumns("silo", "address", "gateway", "status", "activations", "up since (UTC)");
        foreach (var host in shown)
        {
            var status = host.Status switch
            {
                SiloStatus.Active => "[green]Active[/]",
                SiloStatus.Dead => "[red]Dead[/]",
                var other => $"[yellow]{other}[/]",
            };
            table.AddRow(
                Markup.Escape(host.SiloName ?? "?"),
                Markup.Escape(host.SiloAddress.Endpoint.ToString()),
                host.ProxyPort > 0 ? host.ProxyPort.ToString() : "-",
                status,
                activations.TryGetValue(host.SiloAddress, out var count) ? count.ToString() : "-",
                host.StartTime.ToString("yyyy-MM-dd HH:mm:ss"));
        }

        table.Caption($"{active.Length} active silo(s); dead silos of the last 10 minutes are listed too");
        return table;
    }
}
