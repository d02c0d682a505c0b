using System.Collections.Concurrent;
using System.Collections.Immutable;
using Reliability.Infrastructure;

namespace Reliability.Projections.Scripts;

/// <summary>
/// One per silo: the open event stores and the JavaScript projections, read from the durable catalog and
/// cached where that is safe (a store, once made, stays; a script version and a generation's version never
/// change), and compiled once per version.
/// </summary>
public sealed class OpenCatalog(IOpenCatalogStore store, Func<string, CancellationToken, Task> createStoreSchema, TimeProvider time, ScriptLimits? limits = null)
{
    private static readonly TimeSpan ReadersRefresh = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, StoreInfo> _stores = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, int), Lazy<Task<ScriptProjection>>> _compiled = new();
    private readonly ConcurrentDictionary<(string, int), int> _generations = new();
    private ImmutableDictionary<string, ImmutableArray<string>> _readers = ImmutableDictionary<string, ImmutableArray<string>>.Empty;
    private DateTimeOffset _readersAt = DateTimeOffset.MinValue;
    private int _refreshing;

    public ScriptLimits Limits { get; } = limits ?? ScriptLimits.Default;

    /// <summary>
    /// Makes an open store's event table where the store lives: a schema of its name in the shared
    /// database, or the database <c>Database:Stores:&lt;store&gt;</c> names; nothing in Localhost mode.
    /// </summary>
    public static Func<string, CancellationToken, Task> SchemaMaker(DatabaseOptions database) => (store, cancellationToken) =>
        database.IsConfigured(store)
            ? SchemaInstaller.ApplyAsync(StoreCatalog.OpenStore(store), database.ConnectionStringFor(store), cancellationToken)
            : Task.CompletedTask;

    /// <summary>The open store, or null if none of that name was made.</summary>
    public async Task<StoreInfo?> FindStoreAsync(string name)
    {
        if (_stores.TryGetValue(name, out var known))
        {
            return known;
        }

        if (!StoreNames.IsValidOpenStore(name) || await store.FindStoreAsync(name) is not { } at)
        {
            return null;
        }

        return _stores[name] = new StoreInfo(name, at, false);
    }

    /// <summary>Makes the store's event table (idempotent) and lists it; Created is false if it existed.</summary>
    public async Task<(StoreInfo Store, bool Created)> CreateStoreAsync(string name, CancellationToken cancellationToken)
    {
        if (!StoreNames.IsValidOpenStore(name))
        {
            throw new ArgumentException($"'{name}' cannot name a store: use 2 to 40 lower-case letters, digits and underscores, starting with a letter, and none of {string.Join(", ", StoreNames.Reserved.Order(StringComparer.Ordinal))}.");
        }

        await createStoreSchema(name, cancellationToken);
        var created = await store.AddStoreAsync(name);
        _stores.TryRemove(name, out _);
        return (await FindStoreAsync(name) ?? throw new InvalidOperationException($"Store '{name}' was made but is not listed."), created);
    }

    public async Task<IReadOnlyList<StoreInfo>> ListStoresAsync() =>
        [.. (await store.ListStoresAsync()).Select(s => new StoreInfo(s.Name, s.CreatedAt, false))];

    /// <summary>A built-in service's store or an open one.</summary>
    public async Task<bool> IsEventStoreAsync(string name) => StoreNames.EventStores.Contains(name) || await FindStoreAsync(name) is not null;

    /// <summary>
    /// Compiles the script (refusing it with <see cref="ScriptDefinitionException"/>), checks its stores
    /// exist (and, when <paramref name="expectedStores"/> is given, that they are those), and writes it as the
    /// projection's next version, unless it is the newest one already.
    /// </summary>
    public async Task<(ScriptDefinition Definition, bool Created)> RegisterAsync(string name, string source, IReadOnlyCollection<string>? expectedStores = null)
    {
        var compiled = ScriptProjection.Compile(name, 0, source, Limits);
        if (expectedStores is not null && !compiled.Stores.Order(StringComparer.Ordinal).SequenceEqual(expectedStores.Distinct().Order(StringComparer.Ordinal)))
        {
            throw new ScriptStoresMismatchException($"the script reads {string.Join(", ", compiled.Stores)} (its fromStores), but stores says {string.Join(", ", expectedStores)}");
        }

        foreach (var source_ in compiled.Stores)
        {
            if (!await IsEventStoreAsync(source_))
            {
                throw new ScriptDefinitionException($"script: fromStores names '{source_}', which is no event store; make it first (PUT /api/admin/stores/{source_}) or use one of {string.Join(", ", StoreNames.EventStores)}.");
            }
        }

        var registered = await store.AddScriptAsync(name, compiled.Stores, source);
        RefreshReaders(force: true);
        return registered;
    }

    /// <summary>The newest version of the projection's script, or null when there is no such script.</summary>
    public async Task<ScriptProjection?> LatestAsync(string name) =>
        await store.FindScriptAsync(name) is { } newest ? await VersionAsync(name, newest.Version) : null;

    public Task<ScriptDefinition?> FindAsync(string name, int? version = null) => store.FindScriptAsync(name, version);

    public Task<IReadOnlyList<ScriptDefinition>> ListAsync() => store.ListScriptsAsync();

    public Task<ScriptProjection> VersionAsync(string name, int version) =>
        _compiled.GetOrAdd((name, version), key => new Lazy<Task<ScriptProjection>>(async () =>
        {
            var definition = await store.FindScriptAsync(key.Item1, key.Item2)
                ?? throw new InvalidOperationException($"Projection '{key.Item1}' has no version {key.Item2}.");
            return ScriptProjection.Compile(key.Item1, key.Item2, definition.Source, Limits);
        })).Value;

    /// <summary>The script a generation's views are built with; null before the runner assigned one.</summary>
    public async Task<ScriptProjection?> ForGenerationAsync(string name, int generation)
    {
        if (!_generations.TryGetValue((name, generation), out var version))
        {
            if (await store.VersionOfAsync(name, generation) is not { } stored)
            {
                return null;
            }

            version = _generations[(name, generation)] = stored;
        }

        return await VersionAsync(name, version);
    }

    /// <summary>Records a generation's version (the runner does, as the generation starts).</summary>
    public async Task AssignAsync(string name, int generation, int version)
    {
        await store.AssignAsync(name, generation, version);
        _generations[(name, generation)] = version;
    }

    /// <summary>The JavaScript projections that read a store, as last read (at most a couple of seconds old), for nudging their runners.</summary>
    public ImmutableArray<string> ReadersOf(string storeName)
    {
        RefreshReaders(force: false);
        return _readers.GetValueOrDefault(storeName, []);
    }

    private void RefreshReaders(bool force)
    {
        if ((!force && time.GetUtcNow() - _readersAt < ReadersRefresh) || Interlocked.Exchange(ref _refreshing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var scripts = await store.ListScriptsAsync();
                _readers = scripts
                    .SelectMany(s => s.Stores.Select(st => (Store: st, s.Name)))
                    .GroupBy(p => p.Store, StringComparer.Ordinal)
                    .ToImmutableDictionary(g => g.Key, g => g.Select(p => p.Name).ToImmutableArray(), StringComparer.Ordinal);
                _readersAt = time.GetUtcNow();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The catalog is unreachable for now: the runners' polls still read, only later.
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        });
    }
}
