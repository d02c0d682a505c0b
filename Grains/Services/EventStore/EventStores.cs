using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Services.EventStore;

/// <summary>PostgreSQL event stores, one data source per service store, created on first use.</summary>
public sealed class PostgresEventStores(DatabaseOptions database) : IEventStores, IAsyncDisposable
{
    private readonly Dictionary<string, PostgresEventStore> _stores = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public IEventStore For(string store) => Postgres(store);

    public PostgresEventStore Postgres(string store)
    {
        lock (_gate)
        {
            if (!_stores.TryGetValue(store, out var existing))
            {
                existing = new PostgresEventStore(store, NpgsqlDataSource.Create(database.ConnectionStringFor(store)));
                _stores[store] = existing;
            }

            return existing;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores.Values)
        {
            await store.DisposeAsync();
            await store.Source.DisposeAsync();
        }
    }
}

/// <summary>In-memory event stores for Localhost mode.</summary>
public sealed class InMemoryEventStores(TimeProvider time) : IEventStores
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, InMemoryEventStore> _stores = new(StringComparer.Ordinal);

    public IEventStore For(string store) => _stores.GetOrAdd(store, name => new InMemoryEventStore(name, time));
}
