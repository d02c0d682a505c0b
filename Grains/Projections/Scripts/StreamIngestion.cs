using System.Collections.Immutable;
using Reliability.Services.EventStore;

namespace Reliability.Projections.Scripts;

/// <summary>What an append expects of its stream: a version, any version, or no stream yet (version 0).</summary>
public readonly record struct ExpectedVersion(int? Exactly)
{
    public static ExpectedVersion Any { get; } = new(null);

    public static ExpectedVersion None { get; } = new(0);

    public override string ToString() => Exactly is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "any";
}

/// <summary>An event another service appends: its client id (the same on every retry), its type and its data as JSON.</summary>
public sealed record IncomingEvent(Guid Id, string Type, string Data);

public enum AppendStatus
{
    /// <summary>The events are appended now.</summary>
    Appended,

    /// <summary>The same events (by id) were appended before, as one append: nothing was written again.</summary>
    Replayed,

    /// <summary>The stream is not at the expected version, or some of the ids were appended before in a different append.</summary>
    Conflict,
}

/// <summary>The outcome of an append: the stream's version after it, the consistency token of its last event, and for a conflict why.</summary>
public sealed record AppendOutcome(AppendStatus Status, int Version, ConsistencyToken? Token, string? Conflict = null);

/// <summary>
/// Appends over HTTP into an open store, with the built-in services' guarantees: optimistic concurrency
/// on the stream's version, and a client id on every event (unique in its stream), so a retried append is
/// answered with what the first one wrote rather than written twice. Appends then nudge the projections
/// that read the store.
/// </summary>
public sealed class StreamIngestion(IEventStores stores, IProjectionNudger nudger)
{
    /// <summary>How often an append at "any" version reads the version again when other appends keep moving it.</summary>
    private const int AnyVersionAttempts = 8;

    public async Task<AppendOutcome> AppendAsync(string store, string stream, ExpectedVersion expected, IReadOnlyList<IncomingEvent> events, CancellationToken cancellationToken = default)
    {
        var events_ = events.Select(e => new EventData(e.Type, e.Data, e.Id.ToString("D"))).ToList();
        var source = stores.For(store);
        for (var attempt = 1; ; attempt++)
        {
            var at = expected.Exactly ?? await source.StreamVersionAsync(stream, cancellationToken);
            try
            {
                var appended = await source.AppendAsync(stream, at, events_, cancellationToken, idOnEveryEvent: true);
                nudger.Appended(store);
                return new AppendOutcome(AppendStatus.Appended, appended.Version, new ConsistencyToken(store, appended.Positions[^1]));
            }
            catch (DuplicateCommandException)
            {
                return await AnswerRetryAsync(source, stream, events_, cancellationToken)
                    ?? new AppendOutcome(AppendStatus.Conflict, await source.StreamVersionAsync(stream, cancellationToken), null,
                        "some of these event ids were appended to the stream before, in a different append");
            }
            catch (ConcurrencyConflictException)
            {
                // A retry of an append that went through meets its own events at that version: answer it as a replay.
                if (await AnswerRetryAsync(source, stream, events_, cancellationToken) is { } replayed)
                {
                    return replayed;
                }

                if (expected.Exactly is null && attempt < AnyVersionAttempts)
                {
                    continue;
                }

                var current = await source.StreamVersionAsync(stream, cancellationToken);
                return new AppendOutcome(AppendStatus.Conflict, current, null, $"the stream is at version {current}, not {at}");
            }
        }
    }

    /// <summary>The first append's answer when these events (by id, in order) are in the stream already as one run; null if they are not.</summary>
    private static async Task<AppendOutcome?> AnswerRetryAsync(IEventStore source, string stream, List<EventData> events, CancellationToken cancellationToken)
    {
        if (await source.FindCommandAsync(stream, events[0].CommandId!, cancellationToken) is not { } first)
        {
            return null;
        }

        var stored = await source.ReadStreamAsync(stream, first.Version - 1, cancellationToken, limit: events.Count);
        if (stored.Count != events.Count || !stored.Select(e => e.CommandId).SequenceEqual(events.Select(e => e.CommandId)))
        {
            return null;
        }

        return new AppendOutcome(AppendStatus.Replayed, stored[^1].Version, new ConsistencyToken(source.Name, stored[^1].Position));
    }

    /// <summary>A page of a stream: the events after <paramref name="afterVersion"/>, at most <paramref name="limit"/>.</summary>
    public async Task<ImmutableArray<RecordedEvent>> ReadAsync(string store, string stream, int afterVersion, int limit, CancellationToken cancellationToken = default) =>
        [.. await stores.For(store).ReadStreamAsync(stream, afterVersion, cancellationToken, limit)];
}
