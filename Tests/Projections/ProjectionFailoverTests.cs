using Microsoft.Extensions.DependencyInjection;
using Reliability.Projections;
using Reliability.Services;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Projections;

public sealed class ProjectionFailoverTests(ITestOutputHelper output)
{
    /// <summary>
    /// Checkpoint saves are slowed down, so the runner spends most of its time between "the views applied
    /// the batch" and "the checkpoint moved". Orders are placed without pause; the silo hosting the orders
    /// runner is killed during a save (its save is made to fail, as the process would have died). The runner
    /// comes back on another silo, repeats the batch, and the views end equal to a fresh rebuild, with every
    /// event of the tables counted once in the totals.
    /// </summary>
    [Fact]
    public async Task SiloHostingARunnerIsKilledMidBatch_ViewsEndEqualToAFreshRebuild()
    {
        var (cluster, database) = await TestClusters.StartAsync("projection-kill", sagas: Sagas.SagaClusterFixture.FastOptions(),
            projections: ProjectionClusterFixture.FastOptions(),
            configureSilo: silo => silo.Services.AddSingleton<IProjectionStore>(sp =>
                new SlowCheckpointStore(new PostgresProjectionStore(sp.GetRequiredService<Reliability.Infrastructure.DatabaseOptions>()))));
        await using var _ = cluster;
        var shop = new Shop(cluster.Client);
        var skus = new[] { await shop.StockAsync(1_000_000, 2m), await shop.StockAsync(1_000_000, 5m) };
        using var stop = new CancellationTokenSource();
        var placed = 0;
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(async worker =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await shop.PlaceOrderAsync($"k{worker}-{i % 3}", new OrderLine(skus[i % 2], 1 + (i % 2), i % 2 == 0 ? 2m : 5m));
                Interlocked.Increment(ref placed);
            }
        }));

        var runner = cluster.Client.GetGrain<IProjectionRunnerGrain>(ProjectionNames.Orders);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var host = cluster.HostOf(runner);
        var slow = (SlowCheckpointStore)host.SiloHost.Services.GetRequiredService<IProjectionStore>();
        await slow.SaveStarted.WaitAsync(TimeSpan.FromSeconds(20));
        slow.Die();
        await cluster.KillSiloAsync(host);
        output.WriteLine($"killed {host.Name} during a checkpoint save, {placed} orders placed");

        await Task.Delay(TimeSpan.FromSeconds(3));
        await stop.CancelAsync();
        await load;
        await shop.CaughtUpAllAsync();
        var status = await runner.GetStatus();
        output.WriteLine($"runner now on {status.Silo}; {placed} orders");
        Assert.NotEqual(host.Name, status.Silo);

        var live = await shop.SnapshotAsync();
        var totals = (await cluster.Client.ReadTotalsAsync([], TimeSpan.Zero)).View!;
        Assert.Equal(await EventTables.TotalsEventsAsync(database), totals.EventsApplied);
        Assert.Equal(placed, totals.OrdersByStatus.GetValueOrDefault(OrderStatus.Confirmed));

        await shop.RebuildAllAsync();
        Assert.Equal(live, await shop.SnapshotAsync());
    }

    /// <summary>The real store, with checkpoint saves that take 300 ms and can be made to fail, as if the process had died during one.</summary>
    private sealed class SlowCheckpointStore(IProjectionStore inner) : IProjectionStore
    {
        private readonly TaskCompletionSource _saveStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _dead;

        public Task SaveStarted => _saveStarted.Task;

        public void Die() => _dead = true;

        public async Task SaveCheckpointsAsync(string projection, int generation, IReadOnlyDictionary<string, StoreCursor> cursors)
        {
            if (projection == ProjectionNames.Orders)
            {
                _saveStarted.TrySetResult();
                await Task.Delay(300);
            }

            if (_dead)
            {
                throw new IOException("the process died during the save");
            }

            await inner.SaveCheckpointsAsync(projection, generation, cursors);
        }

        public Task<(int Live, int? Rebuilding, long Version)> LoadStatusAsync(string projection) => inner.LoadStatusAsync(projection);

        public Task<(int Live, int? Rebuilding, long Version)> SaveStatusAsync(string projection, int live, int? rebuilding, long expectedVersion) =>
            _dead ? Task.FromException<(int, int?, long)>(new IOException("the process died")) : inner.SaveStatusAsync(projection, live, rebuilding, expectedVersion);

        public Task<Dictionary<string, StoreCursor>> LoadCheckpointsAsync(string projection, int generation) => inner.LoadCheckpointsAsync(projection, generation);

        public Task ParkAsync(string projection, int generation, ProjectedEvent e, string error, int attempts) =>
            Dead() ?? inner.ParkAsync(projection, generation, e, error, attempts);

        public Task<IReadOnlyList<ParkedEvent>> ListParkedAsync(string projection, int generation, int limit) => inner.ListParkedAsync(projection, generation, limit);

        public Task<long> CountParkedAsync(string projection, int generation) => inner.CountParkedAsync(projection, generation);

        public Task UnparkAsync(string projection, int generation, string store, long position) => Dead() ?? inner.UnparkAsync(projection, generation, store, position);

        public Task DropGenerationAsync(string projection, int generation) => Dead() ?? inner.DropGenerationAsync(projection, generation);

        public Task<IReadOnlyList<string>> ListViewKeysAsync(string projection, int generation, string prefix, string? after, int limit) =>
            inner.ListViewKeysAsync(projection, generation, prefix, after, limit);

        private Task? Dead() => _dead ? Task.FromException(new IOException("the process died")) : null;
    }
}
