using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reliability.RateLimiting;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.RateLimiting;

/// <summary>
/// A silo's background loops outlive a grain call that is cancelled under them. During a partition the
/// strongly consistent directory cancels registrations it cannot complete, and the caller sees a
/// TaskCanceledException that is not its own stopping token: a loop that let it escape stopped the whole
/// silo (the host's BackgroundService rule), which the partition drill caught on the majority side.
/// </summary>
public sealed class BackgroundLoopTests
{
    [Fact]
    public async Task ThePolicyCache_KeepsRefreshing_WhenARegistryCallIsCancelledUnderIt()
    {
        var cancelled = new CancelledRegistryCalls();
        var (cluster, _) = await TestClusters.StartAsync("background-loops", silos: 1,
            configureSilo: silo => silo.AddOutgoingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod?.DeclaringType == typeof(IRateLimitPolicyRegistryGrain) && cancelled.Take())
                {
                    throw new TaskCanceledException("the directory gave up registering the registry's activation");
                }

                await context.Invoke();
            }));
        await using (cluster)
        {
            var silo = cluster.Silos[0].SiloHost.Services;
            var lifetime = silo.GetRequiredService<IHostApplicationLifetime>();
            var cache = silo.GetRequiredService<RateLimitPolicyCache>();

            cancelled.Arm(1);
            await cancelled.AllTaken.WaitAsync(TimeSpan.FromSeconds(10));
            var policy = new RateLimitPolicy($"after-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.FixedWindow, 5, TimeSpan.FromMinutes(1));
            await cluster.Client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey).Upsert(policy);

            // The loop refreshes every half second: a live one has the new policy well within ten.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!cache.Current.Policies.ContainsKey(policy.Name) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the silo is stopping: a cancelled registry call escaped the policy cache's loop");
            Assert.True(cache.Current.Policies.ContainsKey(policy.Name), "the policy cache stopped refreshing after one cancelled registry call");
        }
    }

    /// <summary>How many registry calls to cancel, counted down by the filter.</summary>
    private sealed class CancelledRegistryCalls
    {
        private readonly TaskCompletionSource _allTaken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _left;

        public Task AllTaken => _allTaken.Task;

        public void Arm(int calls) => Volatile.Write(ref _left, calls);

        public bool Take()
        {
            var left = Interlocked.Decrement(ref _left);
            if (left == 0)
            {
                _allTaken.TrySetResult();
            }

            return left >= 0;
        }
    }
}
