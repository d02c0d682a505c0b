using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands;

/// <summary><c>tour</c>: a guided run of every capability against the running cluster.</summary>
public sealed class TourCommand : AsyncCommand<ClusterSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClusterSettings settings, CancellationToken cancellationToken)
    {
        var target = settings.Target();
        await using var connection = await AnsiConsole.Status().StartAsync("connecting to the cluster…",
            _ => ClusterConnection.ConnectAsync(target, cancellationToken));
        var run = ClusterRunInfo.TryRead(RepositoryPaths.ClusterFile);
        await Tour.Tour.RunAsync(new Tour.TourContext(connection, run?.DemoUpstream, run?.RlsUrls), cancellationToken);
        return 0;
    }
}
