using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;
using Reliability.Services;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Sagas;

/// <summary>Reads of a saga interleave with its commands; a store that holds loads back forces the worst order.</summary>
public sealed class SagaInterleavingTests
{
    /// <summary>
    /// A cold activation gets a cancel and, while the cancel's load is held, a read. Load, load, update: the
    /// read's copy is older than the cancel's write, and must not replace it, or the saga is left saying
    /// Compensating in the database with nothing driving it.
    /// </summary>
    [Fact]
    public async Task ReadInterleavedWithACancel_OnAColdActivation_LeavesTheCancelInForce()
    {
        var gated = new GatedSagaStore();
        var (cluster, database) = await TestClusters.StartAsync("saga-interleave", silos: 1, sagas: SagaClusterFixture.FastOptions(),
            configureSilo: silo => silo.Services.AddSingleton<ISagaStore>(sp => gated.Wrap(new PostgresSagaStore(sp.GetRequiredService<DatabaseOptions>()))));
        await using var _ = cluster;
        var (sagaId, alice, bob, _) = await WaitingTransferAsync(cluster.Client, new PostgresSagaStore(database));
        var saga = cluster.Client.GetGrain<ISagaGrain>(sagaId);

        // The cancel's load is held; the read starts a load of its own meanwhile (load, load).
        gated.Loads.HoldAfter(0);
        var cancel = saga.Cancel("interleaved");
        await gated.Loads.WaitForHeldAsync(1, TimeSpan.FromSeconds(10));
        var read = saga.Get();
        await gated.Loads.WaitForHeldAsync(2, TimeSpan.FromSeconds(1));

        // The cancel is written (update); the saga's next write is held until the read's load has finished.
        gated.Updates.HoldAfter(1);
        gated.Loads.ReleaseOne();
        Assert.True(await cancel);
        await gated.Updates.WaitForHeldAsync(1, TimeSpan.FromSeconds(10));
        gated.Loads.Hold = false;
        gated.Loads.ReleaseAll();
        await read;
        gated.Updates.Hold = false;
        gated.Updates.ReleaseAll();

        var finished = await new SagaWaiter(cluster.Client).WaitAsync(sagaId, TimeSpan.FromSeconds(15));

        Assert.Equal(SagaStatus.Compensated, finished.Status);
        Assert.Equal(100m, (await cluster.Client.GetGrain<IAccountGrain>(alice).Get()).Balance);
        Assert.Equal(0m, (await cluster.Client.GetGrain<IAccountGrain>(bob).Get()).Balance);
    }

    /// <summary>
    /// Two activations of one saga (a partition): the other one moves the saga on after this one loaded it.
    /// This one's cancel is then refused by the version check; it must not leave the refused state in memory
    /// (where a later command or drive would act on it) but take the durable one and cancel that.
    /// </summary>
    [Fact]
    public async Task ACancelRefusedByTheVersionCheck_IsAppliedToTheStateTheOtherActivationWrote()
    {
        var (cluster, database) = await TestClusters.StartAsync("saga-stale-cancel", silos: 1, sagas: SagaClusterFixture.FastOptions());
        await using var _ = cluster;
        var store = new PostgresSagaStore(database);
        var (sagaId, alice, bob, waiting) = await WaitingTransferAsync(cluster.Client, store);
        var saga = cluster.Client.GetGrain<ISagaGrain>(sagaId);
        Assert.NotNull(await saga.Get());

        // The other activation writes: the saga's next attempt moved (version 1 → 2).
        await store.UpdateAsync(waiting with { NextAttemptAt = waiting.NextAttemptAt + TimeSpan.FromHours(1) }, 1);

        Assert.True(await saga.Cancel("cancelled during a partition"));
        var finished = await new SagaWaiter(cluster.Client).WaitAsync(sagaId, TimeSpan.FromSeconds(15));
        Assert.Equal(SagaStatus.Compensated, finished.Status);
        Assert.Equal(100m, (await cluster.Client.GetGrain<IAccountGrain>(alice).Get()).Balance);
        Assert.Equal(0m, (await cluster.Client.GetGrain<IAccountGrain>(bob).Get()).Balance);
    }

    /// <summary>
    /// Two accounts (100 and 0) and, written straight to the store, a transfer of 10 between them whose
    /// debit went through and whose payment record waits out a long backoff.
    /// </summary>
    private static async Task<(string SagaId, string Alice, string Bob, SagaState Waiting)> WaitingTransferAsync(IClusterClient client, ISagaStore store)
    {
        var (alice, bob) = ($"a-{Guid.NewGuid():N}"[..16], $"b-{Guid.NewGuid():N}"[..16]);
        await client.GetGrain<IAccountGrain>(alice).Open("open", 100m);
        await client.GetGrain<IAccountGrain>(bob).Open("open", 0m);
        var sagaId = $"transfer-{Guid.NewGuid():N}";
        var now = DateTimeOffset.UtcNow;
        var waiting = new SagaMachine(SagaClusterFixture.FastOptions()).Start(sagaId, BuiltInWorkflows.Saga(SagaDefinitions.Transfer(sagaId, alice, bob, 10m)), now) with
        {
            Cursor = 1,
            Attempt = 1,
            NextAttemptAt = now + TimeSpan.FromHours(1),
        };
        await client.GetGrain<IAccountGrain>(alice).Debit(SagaMachine.CommandId(sagaId, 0, compensation: false), 10m, sagaId);
        await store.InsertAsync(waiting);
        return (sagaId, alice, bob, waiting);
    }

    /// <summary>The real store, whose loads and updates can be held after (loads) or before (updates) they run, and released one by one.</summary>
    private sealed class GatedSagaStore
    {
        public Gate Loads { get; } = new();

        public Gate Updates { get; } = new();

        public ISagaStore Wrap(ISagaStore inner) => new Store(inner, this);

        public sealed class Gate
        {
            private readonly ConcurrentQueue<TaskCompletionSource> _held = new();
            private int _heldCount;
            private int _passes = int.MaxValue;

            public volatile bool Hold;

            /// <summary>Lets <paramref name="passes"/> calls through, then holds the rest.</summary>
            public void HoldAfter(int passes)
            {
                _passes = passes;
                Hold = true;
            }

            public async Task WaitForHeldAsync(int count, TimeSpan atMost)
            {
                var deadline = DateTime.UtcNow + atMost;
                while (Volatile.Read(ref _heldCount) < count && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(10);
                }
            }

            public void ReleaseOne()
            {
                if (_held.TryDequeue(out var next))
                {
                    next.TrySetResult();
                }
            }

            public void ReleaseAll()
            {
                while (_held.TryDequeue(out var next))
                {
                    next.TrySetResult();
                }
            }

            public async Task PassAsync()
            {
                if (!Hold || Interlocked.Decrement(ref _passes) >= 0)
                {
                    return;
                }

                var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _held.Enqueue(gate);
                Interlocked.Increment(ref _heldCount);
                await gate.Task;
            }
        }

        private sealed class Store(ISagaStore inner, GatedSagaStore gates) : ISagaStore
        {
            public async Task<(SagaState State, int Version)?> LoadAsync(string sagaId)
            {
                var loaded = await inner.LoadAsync(sagaId);
                await gates.Loads.PassAsync();
                return loaded;
            }

            public Task<bool> InsertAsync(SagaState state) => inner.InsertAsync(state);

            public async Task<int> UpdateAsync(SagaState state, int expectedVersion)
            {
                await gates.Updates.PassAsync();
                return await inner.UpdateAsync(state, expectedVersion);
            }

            public Task<IReadOnlyList<SagaSummary>> ListAsync(SagaStatus? status, int limit) => inner.ListAsync(status, limit);

            public Task<IReadOnlyDictionary<SagaStatus, long>> CountsAsync(IReadOnlyCollection<SagaStatus>? only = null) => inner.CountsAsync(only);

            public Task<IReadOnlyList<string>> ListStalledAsync(DateTimeOffset before, int limit) => inner.ListStalledAsync(before, limit);
        }
    }
}
