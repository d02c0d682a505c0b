using Reliability.Client.Commands;
using Reliability.Diagnostics;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>The cluster itself: who is in it, and a persisted grain reached through any gateway.</summary>
public sealed class ClusterChapter : ITourChapter
{
    public string Title => "The cluster: silos, membership and a persisted grain";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine("Every silo registers in the membership table in PostgreSQL; clients find gateways there.");
        AnsiConsole.Write(await ClusterStatusView.RenderAsync(context.Connection));

        var counter = context.Client.GetGrain<ICounterGrain>($"tour-{context.RunId}");
        AnsiConsole.MarkupLine($"\nGrain [bold]counter/tour-{context.RunId}[/] lives on one silo; each Add is written to PostgreSQL before it returns:");
        var table = new Table().AddColumns("call", "total", "durable writes", "answered by");
        for (var i = 1; i <= 3; i++)
        {
            var snapshot = await counter.Add(i);
            table.AddRow($"Add({i})", snapshot.Total.ToString(), snapshot.Writes.ToString(), snapshot.Silo);
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("One activation per key, anywhere in the cluster: that is what every capability below builds on.");
    }
}
