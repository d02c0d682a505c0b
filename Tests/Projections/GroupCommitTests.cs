using Npgsql;
using Reliability.Infrastructure;
using Reliability.Services.EventStore;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>
/// Appends with an id on every event share commits (group commit). Whatever else is in its group, each
/// append must come out as it would alone: applied whole, or refused whole with its own reason.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime
{
    private const string Store = "groups";
    private DatabaseOptions _database = null!;
    private PostgresEventStore _store = null!;

    public async Task InitializeAsync()
    {
        _database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("group-commit") };
        await SchemaInstaller.ApplyAsync(StoreCatalog.OpenStore(Store), _database.ConnectionStringFor(Store), CancellationToken.None);
        _store = new PostgresEventStore(Store, NpgsqlDataSource.Create(_database.ConnectionStringFor(Store)));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _store.Source.DisposeAsync();
    }

    private static EventData[] Events(int count, string? id = null) =>
        [.. Enumerable.Range(0, count).Select(i => new EventData("Happened", $$"""{"i":{{i}}}""", i == 0 && id is not null ? id : Guid.NewGuid().ToString()))];

    private async Task<(AppendResult? Result, Exception? Error)> TryAsync(string stream, int expected, EventData[] events)
    {
        try
        {
            return (await _store.AppendAsync(stream, expected, events, idOnEveryEvent: true), null);
        }
        catch (Exception ex) when (ex is ConcurrencyConflictException or DuplicateCommandException)
        {
            return (null, ex);
        }
    }

    [Fact]
    public async Task ConflictsAndRepeatedIds_InTheMiddleOfAGroup_FailOnlyTheirOwnAppend_AndTheRestAreAppliedWhole()
    {
        var repeated = Guid.NewGuid().ToString();
        await _store.AppendAsync("taken", 0, Events(1, repeated), idOnEveryEvent: true);

        // Many at once, so they share groups: free streams of 1-3 events, a race of 10 for one stream at
        // version 0, appends that repeat an id already in its stream, and appends at a wrong version.
        var free = Enumerable.Range(0, 40).Select(i => (Stream: $"free-{i}", Count: 1 + i % 3)).ToList();
        var tasks = new List<(string Kind, string Stream, int Count, Task<(AppendResult?, Exception?)> Task)>();
        for (var round = 0; round < 10; round++)
        {
            foreach (var (stream, count) in free.Skip(round * 4).Take(4))
            {
                tasks.Add(("free", stream, count, TryAsync(stream, 0, Events(count))));
            }

            tasks.Add(("race", "contested", 2, TryAsync("contested", 0, Events(2))));
            tasks.Add(("repeat", "taken", 2, TryAsync("taken", 1, [.. Events(1, repeated), .. Events(1)])));
            tasks.Add(("stale", "taken", 1, TryAsync("taken", 5, Events(1))));
        }

        await Task.WhenAll(tasks.Select(t => t.Task));
        var outcomes = tasks.Select(t => (t.Kind, t.Stream, t.Count, Outcome: t.Task.Result)).ToList();

        Assert.All(outcomes.Where(o => o.Kind == "free"), o =>
        {
            Assert.Null(o.Outcome.Item2);
            Assert.Equal(o.Count, o.Outcome.Item1!.Version);
            Assert.Equal(o.Count, o.Outcome.Item1.Positions.Count);
        });
        Assert.Single(outcomes, o => o.Kind == "race" && o.Outcome.Item2 is null);
        Assert.Equal(9, outcomes.Count(o => o.Kind == "race" && o.Outcome.Item2 is ConcurrencyConflictException));
        Assert.All(outcomes.Where(o => o.Kind == "repeat"), o => Assert.IsType<DuplicateCommandException>(o.Outcome.Item2));
        Assert.All(outcomes.Where(o => o.Kind == "stale"), o => Assert.IsType<ConcurrencyConflictException>(o.Outcome.Item2));

        foreach (var (stream, count) in free)
        {
            Assert.Equal(count, (await _store.ReadStreamAsync(stream)).Count);
        }

        Assert.Equal(2, (await _store.ReadStreamAsync("contested")).Count);
        Assert.Single(await _store.ReadStreamAsync("taken"));
        // Every position the answers named is a stored event: nothing answered as appended was rolled back.
        var answered = outcomes.Where(o => o.Outcome.Item1 is not null).SelectMany(o => o.Outcome.Item1!.Positions).ToList();
        Assert.Equal(answered.Count, await EventTables.ScalarAsync(_database, Store, "SELECT count(*) FROM events WHERE position = ANY($1)", answered.ToArray()));
        Assert.Equal(answered.Count + 1, await EventTables.ScalarAsync(_database, Store, "SELECT count(*) FROM events"));
    }
}
