using System.Collections.Concurrent;
using System.Collections.Immutable;
using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Projections.Scripts;

/// <summary>The durable list of open event stores, the JavaScript projections' script versions, and which version each generation is built with.</summary>
public interface IOpenCatalogStore
{
    /// <summary>Adds the store to the list; false if it was there already.</summary>
    Task<bool> AddStoreAsync(string name);

    Task<DateTimeOffset?> FindStoreAsync(string name);

    Task<IReadOnlyList<(string Name, DateTimeOffset CreatedAt)>> ListStoresAsync();

    /// <summary>Writes a new version (the next after the newest), unless the newest has the same source: then that one.</summary>
    Task<(ScriptDefinition Definition, bool Created)> AddScriptAsync(string projection, ImmutableArray<string> stores, string source);

    Task<ScriptDefinition?> FindScriptAsync(string projection, int? version = null);

    /// <summary>The newest version of every script.</summary>
    Task<IReadOnlyList<ScriptDefinition>> ListScriptsAsync();

    /// <summary>Records the version a generation is built with (replacing any earlier record of an unused number).</summary>
    Task AssignAsync(string projection, int generation, int version);

    Task<int?> VersionOfAsync(string projection, int generation);
}

public sealed class PostgresOpenCatalogStore(DatabaseOptions database) : IOpenCatalogStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(database.ConnectionStringFor(StoreNames.Projections));

    public async Task<bool> AddStoreAsync(string name)
    {
        await using var command = _source.CreateCommand("INSERT INTO open_stores (name) VALUES ($1) ON CONFLICT (name) DO NOTHING");
        command.Parameters.AddWithValue(name);
        return await command.ExecuteNonQueryAsync() == 1;
    }

    public async Task<DateTimeOffset?> FindStoreAsync(string name)
    {
        await using var command = _source.CreateCommand("SELECT created_at FROM open_stores WHERE name = $1");
        command.Parameters.AddWithValue(name);
        return await command.ExecuteScalarAsync() is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }

    public async Task<IReadOnlyList<(string Name, DateTimeOffset CreatedAt)>> ListStoresAsync()
    {
        await using var command = _source.CreateCommand("SELECT name, created_at FROM open_stores ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync();
        var stores = new List<(string, DateTimeOffset)>();
        while (await reader.ReadAsync())
        {
            stores.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }

        return stores;
    }

    public async Task<(ScriptDefinition Definition, bool Created)> AddScriptAsync(string projection, ImmutableArray<string> stores, string source)
    {
        for (var attempt = 0; ; attempt++)
        {
            var newest = await FindScriptAsync(projection);
            if (newest is not null && newest.Source == source && newest.Stores.SequenceEqual(stores))
            {
                return (newest, false);
            }

            await using var command = _source.CreateCommand(
                "INSERT INTO projection_scripts (projection, version, stores, source) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING created_at");
            command.Parameters.AddWithValue(projection);
            command.Parameters.AddWithValue((newest?.Version ?? 0) + 1);
            command.Parameters.AddWithValue(stores.ToArray());
            command.Parameters.AddWithValue(source);
            if (await command.ExecuteScalarAsync() is DateTime at)
            {
                return (new ScriptDefinition(projection, (newest?.Version ?? 0) + 1, stores, source, new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))), true);
            }

            // Another registration took that version number at the same moment: look again.
            if (attempt >= 5)
            {
                throw new InvalidOperationException($"Projection '{projection}' kept getting new versions while this one was registered; try again.");
            }
        }
    }

    public async Task<ScriptDefinition?> FindScriptAsync(string projection, int? version = null)
    {
        await using var command = _source.CreateCommand(version is null
            ? "SELECT projection, version, stores, source, created_at FROM projection_scripts WHERE projection = $1 ORDER BY version DESC LIMIT 1"
            : "SELECT projection, version, stores, source, created_at FROM projection_scripts WHERE projection = $1 AND version = $2");
        command.Parameters.AddWithValue(projection);
        if (version is { } v)
        {
            command.Parameters.AddWithValue(v);
        }

        return (await ReadScriptsAsync(command)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<ScriptDefinition>> ListScriptsAsync()
    {
        await using var command = _source.CreateCommand(
            "SELECT DISTINCT ON (projection) projection, version, stores, source, created_at FROM projection_scripts ORDER BY projection, version DESC");
        return await ReadScriptsAsync(command);
    }

    public async Task AssignAsync(string projection, int generation, int version)
    {
        await using var command = _source.CreateCommand(
            "INSERT INTO projection_script_generations (projection, generation, version) VALUES ($1, $2, $3) ON CONFLICT (projection, generation) DO UPDATE SET version = EXCLUDED.version");
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        command.Parameters.AddWithValue(version);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<int?> VersionOfAsync(string projection, int generation)
    {
        await using var command = _source.CreateCommand("SELECT version FROM projection_script_generations WHERE projection = $1 AND generation = $2");
        command.Parameters.AddWithValue(projection);
        command.Parameters.AddWithValue(generation);
        return await command.ExecuteScalarAsync() is int version ? version : null;
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static async Task<IReadOnlyList<ScriptDefinition>> ReadScriptsAsync(NpgsqlCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        var scripts = new List<ScriptDefinition>();
        while (await reader.ReadAsync())
        {
            scripts.Add(new ScriptDefinition(reader.GetString(0), reader.GetInt32(1), [.. reader.GetFieldValue<string[]>(2)], reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return scripts;
    }
}

/// <summary>The catalog in memory, for Localhost mode.</summary>
public sealed class InMemoryOpenCatalogStore(TimeProvider time) : IOpenCatalogStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _stores = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ImmutableList<ScriptDefinition>> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, int), int> _generations = new();
    private readonly Lock _gate = new();

    public Task<bool> AddStoreAsync(string name) => Task.FromResult(_stores.TryAdd(name, time.GetUtcNow()));

    public Task<DateTimeOffset?> FindStoreAsync(string name) => Task.FromResult(_stores.TryGetValue(name, out var at) ? at : (DateTimeOffset?)null);

    public Task<IReadOnlyList<(string Name, DateTimeOffset CreatedAt)>> ListStoresAsync() =>
        Task.FromResult<IReadOnlyList<(string, DateTimeOffset)>>([.. _stores.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => (s.Key, s.Value))]);

    public Task<(ScriptDefinition Definition, bool Created)> AddScriptAsync(string projection, ImmutableArray<string> stores, string source)
    {
        lock (_gate)
        {
            var versions = _scripts.GetValueOrDefault(projection, []);
            if (versions.LastOrDefault() is { } newest && newest.Source == source && newest.Stores.SequenceEqual(stores))
            {
                return Task.FromResult((newest, false));
            }

            var created = new ScriptDefinition(projection, versions.Count + 1, stores, source, time.GetUtcNow());
            _scripts[projection] = versions.Add(created);
            return Task.FromResult((created, true));
        }
    }

    public Task<ScriptDefinition?> FindScriptAsync(string projection, int? version = null)
    {
        var versions = _scripts.GetValueOrDefault(projection, []);
        return Task.FromResult(version is { } v ? versions.FirstOrDefault(s => s.Version == v) : versions.LastOrDefault());
    }

    public Task<IReadOnlyList<ScriptDefinition>> ListScriptsAsync() =>
        Task.FromResult<IReadOnlyList<ScriptDefinition>>([.. _scripts.Values.Select(v => v[^1]).OrderBy(s => s.Name, StringComparer.Ordinal)]);

    public Task AssignAsync(string projection, int generation, int version)
    {
        _generations[(projection, generation)] = version;
        return Task.CompletedTask;
    }

    public Task<int?> VersionOfAsync(string projection, int generation) =>
        Task.FromResult(_generations.TryGetValue((projection, generation), out var version) ? version : (int?)null);
}
