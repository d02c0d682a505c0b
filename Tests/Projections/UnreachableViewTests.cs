using Reliability.Projections;
using Reliability.Services;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>
/// A view that cannot be reached for a while (its silo is cut from the database, or from its peers) is
/// waited for, never skipped. The partition drill caught the runner parking such a view's events after five
/// failed rounds and going on: the view then took later events of the same streams, so the parked ones
/// could never be replayed in order and the view stayed short of them for good.
/// </summary>
public sealed class UnreachableViewTests
{
    [Fact]
    public async Task AViewUnreachableForManyRounds_GetsEveryEventOnceItAnswersAgain_AndNoneIsParked()
    {
        var blocked = new BlockedView();
        var (cluster, _) = await TestClusters.StartAsync("unreachable-view", silos: 1, sagas: Sagas.SagaClusterFixture.FastOptions(),
            projections: ProjectionClusterFixture.FastOptions(),
            configureSilo: silo => silo.AddOutgoingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod?.Name == nameof(IProjectionViewGrain.Apply) && blocked.Blocks(context.TargetId.Key.ToString()))
                {
                    throw new TimeoutException("Response did not arrive on time (the view's silo is cut off)");
                }

                await context.Invoke();
            }));
        await using var _ = cluster;
        var shop = new Shop(cluster.Client);
        var (from, to) = (await shop.AccountAsync(1_000m), await shop.AccountAsync(0m));
        await shop.TransferAsync(from, to, 10m);
        await shop.CaughtUpAsync(ProjectionNames.Statements);

        blocked.Key = new ViewKey(ProjectionNames.Statements, 1, ViewRef.Account(from)).GrainKey;
        for (var i = 0; i < 3; i++)
        {
            await shop.TransferAsync(from, to, 10m);
        }

        // Well past the five rounds after which the runner used to park a failing view's events.
        await Task.WhenAny(blocked.RefusedAtLeast(12), Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(blocked.Refused >= 12, $"the runner stopped delivering to the unreachable view after {blocked.Refused} attempts (it skipped its events)");
        blocked.Key = null;
        var status = await shop.CaughtUpAsync(ProjectionNames.Statements);

        var statement = (await cluster.Client.ReadStatementAsync(from, [], TimeSpan.Zero)).View!;
        Assert.Equal(0, status.Parked);
        Assert.Equal(960m, statement.Balance);
        Assert.Equal((await cluster.Client.GetGrain<IAccountGrain>(from).Get()).Balance, statement.Balance);
    }

    /// <summary>The key of the one view whose Apply calls fail, and how many were refused.</summary>
    private sealed class BlockedView
    {
        private readonly Lock _gate = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
        private int _refused;

        public volatile string? Key;

        public int Refused
        {
            get
            {
                lock (_gate)
                {
                    return _refused;
                }
            }
        }

        public bool Blocks(string grainKey)
        {
            if (grainKey != Key)
            {
                return false;
            }

            lock (_gate)
            {
                _refused++;
                foreach (var waiter in _waiters.Where(w => _refused >= w.Count))
                {
                    waiter.Reached.TrySetResult();
                }
            }

            return true;
        }

        public Task RefusedAtLeast(int count)
        {
            lock (_gate)
            {
                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, reached));
                if (_refused >= count)
                {
                    reached.TrySetResult();
                }

                return reached.Task;
            }
        }
    }
}
