using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>
/// What a network partition would do to the running cluster: the silo that holds the most activations
/// now, what happens to it and to each capability if it were cut off (figures from the partition drills),
/// and the command that does it for real on network namespaces.
/// </summary>
public sealed class PartitionChapter : ITourChapter
{
    public string Title => "Partitions: what each capability chooses when the network splits";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        var management = context.Client.GetGrain<IManagementGrain>(0);
        var active = (await management.GetDetailedHosts(onlyActive: true)).OrderBy(h => h.SiloName, StringComparer.Ordinal).ToList();
        if (active.Count < 2)
        {
            AnsiConsole.MarkupLine("[grey]Skipped: a partition needs at least two silos.[/]");
            return;
        }

        var statistics = await management.GetRuntimeStatistics([.. active.Select(h => h.SiloAddress)]);
        var (busiest, activations) = active.Zip(statistics).Select(p => (p.First, p.Second.ActivationCount)).MaxBy(p => p.ActivationCount);
        var others = active.Count - 1;
        AnsiConsole.MarkupLine($"Say [bold]{Markup.Escape(busiest.SiloName ?? "?")}[/], which holds {activations} of the cluster's activations now, were cut off from the other {others} " +
                               "but could still reach PostgreSQL. The partition drills did exactly that (figures: docs/guarantees.md):");
        AnsiConsole.MarkupLine($"- The other {others} stop hearing from it; after about 13 s (a silent link, unlike a killed process, is first given 12 s) they declare it dead in the membership table.");
        AnsiConsole.MarkupLine("- Its grains activate again on the others as they are called. It reads the table every 2 s, finds itself dead and stops; until then a grain can run on both sides (seen for up to 1.6 s), and whatever the stale one writes fails its version check.");
        AnsiConsole.MarkupLine("- Cut from PostgreSQL instead (but not from its peers), it stays in the cluster, and what it hosts cannot be written until the link heals.");

        var table = new Table().AddColumns("capability", "under a partition", "a client of the cut-off silo sees");
        table.AddRow("membership", "the side with PostgreSQL decides; the other side stops itself", "its silo gone (connection refused) once it stopped");
        table.AddRow("rate limiting", "available: each subject decides in memory, wherever it is active", "decisions; over-admission bounded by one burst per failover");
        table.AddRow("idempotency keys", "consistent: one durable record per key, every write version-checked", "409 (in progress) or no answer until the key's silo is declared dead; never a second effect");
        table.AddRow("sagas", "consistent: one driver per saga, version-checked; commands applied once per id", "the saga finishes or compensates after the heal; no step twice");
        table.AddRow("projections", "reads available, possibly stale (said so with the token); runners fenced", "stale: true with ?after=, until the view catches up");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("As root, [bold]dotnet Client/bin/Release/net10.0/Client.dll partition --faults isolate[/] runs this on network namespaces under load and checks every invariant.");
    }
}
