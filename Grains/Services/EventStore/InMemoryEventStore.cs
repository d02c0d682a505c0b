using Reliability.Projections;

namespace Reliability.Services.EventStore;

/// <summary>
/// The same contract in memory, for Localhost mode and unit tests. Appends are atomic under a lock, so
/// commit order is position order and a row's transaction id is its position.
/// </summary>
public sealed class InMemoryEventStore(string name, TimeProvider time) : IEventStore
{
    private readonly Lock _gate = new();
    private readonly List<RecordedEvent> _all = [];
    private readonly Dictionary<string, List<RecordedEvent>> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Snapshot> _snapshots = new(StringComparer.Ordinal);

    public string Name => name;

    public Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, int afterVersion = 0, CancellationToken cancellationToken = default, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<RecordedEvent>>(_streams.TryGetValue(streamId, out var stream) ? stream.Skip(Math.Max(0, afterVersion)).Take(limit).ToList() : []);
        }
    }

    public Task<RecordedEvent?> FindCommandAsync(string streamId, string commandId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_streams.TryGetValue(streamId, out var stream) ? stream.FirstOrDefault(e => e.CommandId == commandId) : null);
        }
    }

    public Task<Snapshot?> ReadSnapshotAsync(string streamId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_snapshots.GetValueOrDefault(streamId));
        }
    }

    public Task WriteSnapshotAsync(string streamId, Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_snapshots.TryGetValue(streamId, out var stored) || stored.Version < snapshot.Version)
            {
                _snapshots[streamId] = snapshot;
            }

            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<ProjectedEvent>> ReadAfterAsync(StoreCursor after, int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ProjectedEvent>>(After(after).Take(limit).Select(Project).ToList());
        }
    }

    public Task<ProjectedEvent?> ReadAtAsync(long position, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(position >= 1 && position <= _all.Count ? Project(_all[(int)position - 1]) : null);
        }
    }

    public Task<ulong?> TransactionOfAsync(long position, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<ulong?>(position >= 1 && position <= _all.Count ? (ulong)position : null);
        }
    }

    public Task<(long Count, DateTimeOffset? Oldest)> BacklogAsync(StoreCursor after, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var behind = After(after).ToList();
            return Task.FromResult<(long, DateTimeOffset?)>((behind.Count, behind.Count == 0 ? null : behind[0].RecordedAt));
        }
    }

    /// <summary>The events after a cursor: positions are dense from 1 and a position is its own transaction id. Call under the lock.</summary>
    private IEnumerable<RecordedEvent> After(StoreCursor cursor) => _all.Skip((int)Math.Min(cursor.TxId, (ulong)_all.Count));

    private ProjectedEvent Project(RecordedEvent e) => new(name, e.Position, (ulong)e.Position, e.StreamId, e.Version, e.Type, e.Payload, e.RecordedAt);

    public Task<int> StreamVersionAsync(string streamId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_streams.TryGetValue(streamId, out var stream) ? stream.Count : 0);
        }
    }

    public Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default, bool idOnEveryEvent = false)
    {
        lock (_gate)
        {
            var stream = _streams.TryGetValue(streamId, out var existing) ? existing : _streams[streamId] = [];
            if (stream.Count != expectedVersion)
            {
                throw new ConcurrencyConflictException(streamId, expectedVersion);
            }

            foreach (var e in idOnEveryEvent ? events : events.Take(1))
            {
                if (e.CommandId is { } commandId && stream.Exists(s => s.CommandId == commandId))
                {
                    throw new DuplicateCommandException(streamId, commandId);
                }
            }

            var positions = new List<long>();
            foreach (var (e, i) in events.Select((e, i) => (e, i)))
            {
                var recorded = new RecordedEvent(_all.Count + 1, streamId, stream.Count + 1, e.Type, e.Payload, i == 0 || idOnEveryEvent ? e.CommandId : null, time.GetUtcNow());
                stream.Add(recorded);
                _all.Add(recorded);
                positions.Add(recorded.Position);
            }

            return Task.FromResult(new AppendResult(stream.Count, positions));
        }
    }
}
