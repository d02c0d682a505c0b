namespace Reliability.Services.EventStore;

/// <summary>The same contract in memory, for Localhost mode and unit tests.</summary>
public sealed class InMemoryEventStore(string name, TimeProvider time) : IEventStore
{
    private readonly Lock _gate = new();
    private readonly List<RecordedEvent> _all = [];
    private readonly Dictionary<string, List<RecordedEvent>> _streams = new(StringComparer.Ordinal);

    public string Name => name;

    public IReadOnlyList<RecordedEvent> All
    {
        get
        {
            lock (_gate)
            {
                return _all.ToList();
            }
        }
    }

    public Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<RecordedEvent>>(_streams.TryGetValue(streamId, out var stream) ? stream.ToList() : []);
        }
    }

    public Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var stream = _streams.TryGetValue(streamId, out var existing) ? existing : _streams[streamId] = [];
            if (stream.Count != expectedVersion)
            {
                throw new ConcurrencyConflictException(streamId, expectedVersion);
            }

            var positions = new List<long>();
            foreach (var e in events)
            {
                var recorded = new RecordedEvent(_all.Count + 1, streamId, stream.Count + 1, e.Type, e.Payload, e.CommandId, time.GetUtcNow());
                stream.Add(recorded);
                _all.Add(recorded);
                positions.Add(recorded.Position);
            }

            return Task.FromResult(new AppendResult(stream.Count, positions));
        }
    }
}
