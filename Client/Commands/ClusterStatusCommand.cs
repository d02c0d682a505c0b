using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands;

/// <summary><c>cluster status</c>: the silos in the membership table, their state and activation counts.</summary>
public sealed class ClusterStatusCommand : AsyncCommand<ClusterSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClusterSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await AnsiConsole.Status().StartAsync("connecting to the cluster…",
            _ => ClusterConnection.ConnectAsync(settings.Target(), cancellationToken));
        AnsiConsole.Write(await ClusterStatusView.RenderAsync(connection));
        return 0;
    }
}
