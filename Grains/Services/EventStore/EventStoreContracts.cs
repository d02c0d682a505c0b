namespace Reliability.Services.EventStore;

/// <summary>An event to append: its type name, its JSON payload, and the command that produced it.</summary>
public sealed record EventData(string Type, string Payload, string? CommandId);

/// <summary>An event as stored: where it sits in its stream (version) and in the store (position).</summary>
public sealed record RecordedEvent(long Position, string StreamId, int Version, string Type, string Payload, string? CommandId, DateTimeOffset RecordedAt);

/// <summary>Where an append landed: the stream's new version and the store positions of the events.</summary>
public sealed record AppendResult(int Version, IReadOnlyList<long> Positions);

/// <summary>
/// A stream's state folded up to <see cref="Version"/>, so an activation need not read the events before it:
/// the state as JSON and the command ids the stream still remembers (its dedupe window), also as JSON.
/// </summary>
public sealed record Snapshot(int Version, string State, string Commands);

/// <summary>Another writer appended to the stream since it was read: reload and decide again.</summary>
public sealed class ConcurrencyConflictException(string streamId, int expectedVersion)
    : Exception($"Stream '{streamId}' is no longer at version {expectedVersion}.")
{
    public string StreamId { get; } = streamId;

    public int ExpectedVersion { get; } = expectedVersion;
}

/// <summary>The command already wrote to the stream (perhaps long ago): it is not applied again.</summary>
public sealed class DuplicateCommandException(string streamId, string commandId)
    : Exception($"Command '{commandId}' was applied to stream '{streamId}' before.")
{
    public string CommandId { get; } = commandId;
}

/// <summary>One service's event store: streams with optimistic concurrency, and a store-wide read for projections.</summary>
public interface IEventStore
{
    /// <summary>
    /// Events after <paramref name="after"/> in (tx_id, position) order, taking only rows whose transaction
    /// ended before the oldest one still running: a row that commits later always sorts after every row
    /// returned now, so a reader that checkpoints the last row it applied never skips one.
    /// </summary>
    Task<IReadOnlyList<Projections.ProjectedEvent>> ReadAfterAsync(Projections.StoreCursor after, int limit, CancellationToken cancellationToken = default);

    /// <summary>The event at a position, for replaying a parked one.</summary>
    Task<Projections.ProjectedEvent?> ReadAtAsync(long position, CancellationToken cancellationToken = default);

    /// <summary>The transaction of the event at a position, to turn a consistency token into a cursor; null if there is none.</summary>
    Task<ulong?> TransactionOfAsync(long position, CancellationToken cancellationToken = default);

    /// <summary>How many events come after the cursor, and when the oldest of them was recorded.</summary>
    Task<(long Count, DateTimeOffset? Oldest)> BacklogAsync(Projections.StoreCursor after, CancellationToken cancellationToken = default);

    string Name { get; }

    /// <summary>The stream's events after <paramref name="afterVersion"/> (all of them by default), in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, int afterVersion = 0, CancellationToken cancellationToken = default, int limit = int.MaxValue);

    /// <summary>The first event <paramref name="commandId"/> wrote to the stream, or null if it wrote none.</summary>
    Task<RecordedEvent?> FindCommandAsync(string streamId, string commandId, CancellationToken cancellationToken = default);

    /// <summary>The stream's latest snapshot, or null.</summary>
    Task<Snapshot?> ReadSnapshotAsync(string streamId, CancellationToken cancellationToken = default);

    /// <summary>Keeps a snapshot unless a newer one is stored already.</summary>
    Task WriteSnapshotAsync(string streamId, Snapshot snapshot, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends at <paramref name="expectedVersion"/> + 1 …; throws <see cref="ConcurrencyConflictException"/> if the
    /// stream moved, <see cref="DuplicateCommandException"/> if the first event's command wrote to it before.
    /// Only the first event of an append carries its command id, unless <paramref name="idOnEveryEvent"/>: then
    /// every event carries its own (events appended over HTTP each have a client id), and an append that
    /// repeats any of them throws <see cref="DuplicateCommandException"/>.
    /// </summary>
    Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default, bool idOnEveryEvent = false);

    /// <summary>The stream's version: its number of events, 0 for a stream with none.</summary>
    Task<int> StreamVersionAsync(string streamId, CancellationToken cancellationToken = default);
}

/// <summary>The event store of each service, by store name.</summary>
public interface IEventStores
{
    IEventStore For(string store);
}
