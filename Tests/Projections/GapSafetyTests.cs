using Npgsql;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Services.EventStore;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>
/// The store-wide read of an event table never skips an event whose transaction commits after a later
/// position was read: positions are handed out in insert order, but transactions commit in any order.
/// </summary>
public sealed class GapSafetyTests : IAsyncLifetime
{
    private DatabaseOptions _database = null!;
    private PostgresEventStore _store = null!;

    public async Task InitializeAsync()
    {
        _database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("gaps") };
        await SchemaInstaller.ApplyAsync(StoreCatalog.All.Single(s => s.Name == StoreNames.Orders), _database.ConnectionStringFor(StoreNames.Orders), CancellationToken.None);
        _store = new PostgresEventStore(StoreNames.Orders, NpgsqlDataSource.Create(_database.ConnectionStringFor(StoreNames.Orders)));
    }

    public async Task DisposeAsync() => await _store.Source.DisposeAsync();

    [Fact]
    public async Task AnEarlierPositionStillOpen_HoldsBackTheLaterOne_UntilItCommits()
    {
        await using var slow = new NpgsqlConnection(_database.ConnectionStringFor(StoreNames.Orders));
        await slow.OpenAsync();
        await using var open = await slow.BeginTransactionAsync();
        var first = await InsertAsync(slow, "order-slow");

        var second = await InsertAsync(null, "order-fast");
        var whileOpen = await _store.ReadAfterAsync(StoreCursor.Start, 100);

        // A reader taking "everything committed after my last position" would have taken the second event
        // now, moved its checkpoint past the first, and never seen it.
        Assert.True(second > first);
        Assert.Empty(whileOpen);

        await open.CommitAsync();
        var afterCommit = await _store.ReadAfterAsync(StoreCursor.Start, 100);
        Assert.Equal([first, second], afterCommit.Select(e => e.Position));
    }

    [Fact]
    public async Task ConcurrentAppendsWithRandomCommitDelays_AreEachReadExactlyOnce()
    {
        var random = new Random(7);
        var delays = Enumerable.Range(0, 240).Select(_ => TimeSpan.FromMilliseconds(random.Next(0, 25))).ToArray();
        var read = new List<long>();
        var writing = Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (var i = writer; i < delays.Length; i += 8)
            {
                await EventTables.AppendSlowlyAsync(_database, StoreNames.Orders, $"order-w{writer}", 1 + (i / 8), "OrderConfirmed", "{}", delays[i]);
            }
        })));

        var cursor = StoreCursor.Start;
        while (true)
        {
            var done = writing.IsCompleted;
            var batch = await _store.ReadAfterAsync(cursor, 7);
            read.AddRange(batch.Select(e => e.Position));
            if (batch.Count > 0)
            {
                cursor = new StoreCursor(batch[^1].TxId, batch[^1].Position);
            }
            else if (done)
            {
                break;
            }
        }

        await writing;
        Assert.Equal(delays.Length, read.Count);
        Assert.Equal(Enumerable.Range(1, delays.Length).Select(p => (long)p), read.Order());
    }

    private async Task<long> InsertAsync(NpgsqlConnection? connection, string stream)
    {
        const string Sql = "INSERT INTO events (stream_id, version, event_type, payload) VALUES ($1, 1, 'OrderConfirmed', '{}') RETURNING position";
        await using var command = connection is null ? _store.Source.CreateCommand(Sql) : new NpgsqlCommand(Sql, connection);
        command.Parameters.AddWithValue(stream);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
