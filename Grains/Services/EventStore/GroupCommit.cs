using System.Threading.Channels;
using Npgsql;

namespace Reliability.Services.EventStore;

/// <summary>
/// Group commit for appends over HTTP, where every request is its own small append: appends that arrive
/// together share one transaction, so the cost of a durable commit (a WAL flush) is paid once for all of
/// them. Each append still stands alone (see PostgresEventStore): it runs under a savepoint of its own, so a
/// conflict or a repeated event id undoes only that append, which fails with the same exception it would alone. An append is
/// answered only after the shared transaction committed; if the commit fails, every append of the group
/// fails, and none of them was applied.
/// </summary>
public sealed class GroupCommit : IAsyncDisposable
{
    /// <summary>Appends at most in one transaction.</summary>
    public const int MaxGroup = 64;

    /// <summary>Transactions in flight at once: one fills while another waits for its flush.</summary>
    public const int Writers = 2;

    private const string DeadlockDetected = "40P01";
    private const string SerializationFailure = "40001";

    private readonly NpgsqlDataSource _source;
    /// <summary>Runs a group's appends in the open transaction: each one's result, or its own exception on a conflict.</summary>
    private readonly Func<NpgsqlConnection, IReadOnlyList<Append>, Task<(AppendResult? Result, Exception? Error)[]>> _run;
    private readonly Channel<Append>[] _queues = [.. Enumerable.Range(0, Writers).Select(_ => Channel.CreateUnbounded<Append>(new UnboundedChannelOptions { SingleReader = true }))];
    private readonly Task[] _writers;

    public GroupCommit(NpgsqlDataSource source, Func<NpgsqlConnection, IReadOnlyList<Append>, Task<(AppendResult? Result, Exception? Error)[]>> run)
    {
        _source = source;
        _run = run;
        _writers = [.. _queues.Select(queue => Task.Run(() => WriteAsync(queue.Reader)))];
    }

    /// <summary>One append waiting for its group.</summary>
    public sealed record Append(string StreamId, int ExpectedVersion, IReadOnlyList<EventData> Events)
    {
        public TaskCompletionSource<AppendResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public Task<AppendResult> AppendAsync(string streamId, int expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        var append = new Append(streamId, expectedVersion, events);
        // A stream always goes to the same writer, so this silo's transactions never wait on each other.
        var writer = (int)((uint)StringComparer.Ordinal.GetHashCode(streamId) % Writers);
        if (!_queues[writer].Writer.TryWrite(append))
        {
            throw new ObjectDisposedException(nameof(GroupCommit));
        }

        return append.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteAsync(ChannelReader<Append> queue)
    {
        var group = new List<Append>(MaxGroup);
        while (await queue.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && queue.TryRead(out var next))
            {
                group.Add(next);
            }

            if (group.Count > 0)
            {
                // In stream order (stable, so one stream's appends keep their order): two silos' groups that
                // touch the same streams then take their locks in the same order and cannot deadlock.
                await CommitAsync([.. group.OrderBy(a => a.StreamId, StringComparer.Ordinal)]);
            }
        }
    }

    private async Task CommitAsync(IReadOnlyList<Append> group)
    {
        (AppendResult? Result, Exception? Error)[] results;
        try
        {
            results = await RunAsync(group);
        }
        catch (PostgresException ex) when (ex.SqlState is DeadlockDetected or SerializationFailure)
        {
            // Rolled back whole by the server, so running the group again is safe (and another silo's order may differ once).
            try
            {
                results = await RunAsync(group);
            }
            catch (Exception again)
            {
                Fail(group, again);
                return;
            }
        }
        catch (Exception ex)
        {
            Fail(group, ex);
            return;
        }

        for (var i = 0; i < group.Count; i++)
        {
            if (results[i].Error is { } error)
            {
                group[i].Done.TrySetException(error);
            }
            else
            {
                group[i].Done.TrySetResult(results[i].Result!);
            }
        }
    }

    private async Task<(AppendResult? Result, Exception? Error)[]> RunAsync(IReadOnlyList<Append> group)
    {
        await using var connection = await _source.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var results = await _run(connection, group);
        await transaction.CommitAsync();
        return results;
    }

    private static void Fail(IReadOnlyList<Append> group, Exception ex)
    {
        // Nothing of the group is applied (or, if the commit's answer was lost, its fate is unknown, and the
        // client's retry with the same ids settles it).
        foreach (var append in group)
        {
            append.Done.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await Task.WhenAll(_writers);
    }
}
