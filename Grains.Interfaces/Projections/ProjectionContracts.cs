using System.Collections.Immutable;
using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>
/// An event as a projection sees it: where it came from, its place in that store's read order (tx_id,
/// position), and the trace context of its append, if that was traced.
/// </summary>
[GenerateSerializer, Immutable, Alias("projections.event")]
public sealed record ProjectedEvent(string Store, long Position, ulong TxId, string StreamId, int Version, string Type, string Payload, DateTimeOffset RecordedAt, string? TraceParent = null);

/// <summary>How far a projection has read one store: everything at or before (TxId, Position) is applied.</summary>
[GenerateSerializer, Immutable, Alias("projections.cursor")]
public sealed record StoreCursor(ulong TxId, long Position)
{
    public static StoreCursor Start { get; } = new(0, 0);

    public bool IsAtOrAfter(ulong txId, long position) => TxId > txId || (TxId == txId && Position >= position);
}

/// <summary>An event a view could not apply, and why.</summary>
[GenerateSerializer, Immutable, Alias("projections.failure")]
public sealed record ApplyFailure(string Store, long Position, string Error);

/// <summary>A consistency token: "the view has applied this store's event at this position". Written <c>store:position</c>.</summary>
[GenerateSerializer, Immutable, Alias("projections.token")]
public sealed record ConsistencyToken(string Store, long Position)
{
    public override string ToString() => $"{Store}:{Position}";

    public static bool TryParse(string? text, out ConsistencyToken? token)
    {
        token = null;
        var parts = text?.Split(':') ?? [];
        if (parts.Length == 2 && StoreNames.IsEventStore(parts[0]) && long.TryParse(parts[1], out var position) && position > 0)
        {
            token = new ConsistencyToken(parts[0], position);
        }

        return token is not null;
    }

    /// <summary>Comma-separated tokens (at most 16); empty text is no tokens.</summary>
    public static bool TryParseList(string? text, out ImmutableArray<ConsistencyToken> tokens)
    {
        tokens = [];
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var parsed = ImmutableArray.CreateBuilder<ConsistencyToken>();
        foreach (var part in parts)
        {
            if (!TryParse(part, out var token))
            {
                return false;
            }

            parsed.Add(token!);
        }

        tokens = parsed.ToImmutable();
        return parts.Length <= 16;
    }
}

/// <summary>A view's answer to a query, and whether it is known to include what the caller wrote.</summary>
[GenerateSerializer, Immutable, Alias("projections.read")]
public sealed record ViewRead<T>(T? View, bool Stale, bool Rebuilding);

public enum ProjectionPhase
{
    Live,
    Rebuilding,
}

/// <summary>
/// Where a projection is in one source store: the position of the last event it applied, how many events
/// come after it and how old the oldest of them is; and the same for a rebuild in progress.
/// </summary>
[GenerateSerializer, Immutable, Alias("projections.source-status")]
public sealed record SourceStatus(string Store, long CheckpointPosition, long EventsBehind, double SecondsBehind, long? RebuildPosition, long RebuildBehind);

/// <summary>How long events took from their append to being applied by the live views, over the last <see cref="WindowSeconds"/>.</summary>
[GenerateSerializer, Immutable, Alias("projections.lag")]
public sealed record LagSummary(double P50Ms, double P99Ms, double MaxMs, int Samples, int WindowSeconds);

/// <summary>The answer of <see cref="IProjectionRunnerGrain.Check"/>: which generation to read, and whether it holds what the tokens name.</summary>
[GenerateSerializer, Immutable, Alias("projections.check")]
public sealed record ViewCheck(int Generation, bool Applied, bool Rebuilding);

/// <summary>
/// A projection's health: where it is in each source, how far behind, its last error, its parked events,
/// and the silo its runner is on. <see cref="EventsApplied"/> and <see cref="RebuildApplied"/> count since
/// the runner's activation started. A JavaScript projection also names the script version of each
/// generation, and why a new version is held back from going live (it parked events), if it is.
/// </summary>
[GenerateSerializer, Immutable, Alias("projections.status")]
public sealed record ProjectionStatus(
    string Name,
    int LiveGeneration,
    int? RebuildingGeneration,
    ImmutableArray<SourceStatus> Sources,
    long EventsApplied,
    long RebuildApplied,
    LagSummary Lag,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    long Parked,
    string Silo,
    int? LiveVersion = null,
    int? RebuildVersion = null,
    string? Held = null)
{
    public ProjectionPhase Phase => RebuildingGeneration is null ? ProjectionPhase.Live : ProjectionPhase.Rebuilding;
}

[GenerateSerializer, Immutable, Alias("projections.parked")]
public sealed record ParkedEvent(string Store, long Position, string StreamId, int Version, string Type, string Error, int Attempts, DateTimeOffset ParkedAt);

/// <summary>
/// The one consumer of a projection (key: projection name): reads each source's events after its
/// checkpoint, hands them to the views, and advances the checkpoint once they are applied.
/// </summary>
[Alias("projections.runner")]
public interface IProjectionRunnerGrain : IGrainWithStringKey
{
    /// <summary>New events were appended to one of the sources: read now rather than at the next poll.</summary>
    [Orleans.Concurrency.OneWay]
    Task Nudge();

    /// <summary>Makes sure the runner is active and reading (called by every silo at start).</summary>
    Task Ensure();

    [Orleans.Concurrency.AlwaysInterleave]
    Task<ProjectionStatus> GetStatus();

    /// <summary>
    /// The live generation, and whether it has applied every event the tokens name (tokens of stores the
    /// projection does not read count as applied); waits up to <paramref name="maxWait"/> (at most 2 s per call) for them.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<ViewCheck> Check(ImmutableArray<ConsistencyToken> tokens, TimeSpan maxWait);

    /// <summary>Starts a rebuild into a new generation; queries keep the old one until the new one has caught up.</summary>
    Task<ProjectionStatus> Rebuild();

    /// <summary>
    /// A JavaScript projection reads its newest script version and starts building it beside the live one
    /// if it is neither live nor being built (what a registration calls); a built-in one only answers its status.
    /// </summary>
    Task<ProjectionStatus> Refresh();

    /// <summary>Applies parked events again (after a fix) and says how many went through.</summary>
    Task<int> ReplayParked();

    Task<ImmutableArray<ParkedEvent>> GetParked(int limit);
}

public static class ProjectionNames
{
    public const string Orders = "orders";
    public const string Statements = "statements";
    public const string Totals = "totals";

    /// <summary>The built-in projections' names, for clients (the silo's list is its descriptors, ProjectionDefinitions.All; a test keeps the two equal).</summary>
    public static readonly IReadOnlyList<string> All = [Orders, Statements, Totals];
}
