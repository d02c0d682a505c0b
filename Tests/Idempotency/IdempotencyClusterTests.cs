using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Idempotency;

/// <summary>The key grain on 3-silo clusters of its own, with a 2 s lease and a 2 s retention, killing and stopping silos.</summary>
public sealed class IdempotencyClusterTests
{
    private static readonly IdempotencyOptions ShortLease = new() { Lease = TimeSpan.FromSeconds(2) };
    private static readonly IdempotencyOptions ShortTimings = new() { Lease = TimeSpan.FromSeconds(2), Retention = TimeSpan.FromSeconds(2), SweepGrace = TimeSpan.Zero };
    private static readonly StoredResponse Created = new(201, "application/json", [.. "{\"created\":true}"u8], ImmutableDictionary<string, string>.Empty);

    [Fact]
    public async Task FiftyParallelBegins_FromThreeSilos_LetExactlyOneRun()
    {
        var (cluster, _) = await TestClusters.StartAsync("idem-parallel", idempotency: ShortTimings);
        await using var _ = cluster;
        var callers = cluster.Silos.Select(s => s.SiloHost.Services.GetRequiredService<IGrainFactory>()).ToList();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            callers[i % callers.Count].GetIdempotencyKey("public", "order-42").Begin("fp")));

        Assert.Single(outcomes, o => o.Kind == IdempotencyOutcomeKind.Started);
        Assert.All(outcomes.Where(o => o.Kind != IdempotencyOutcomeKind.Started), o => Assert.Equal(IdempotencyOutcomeKind.InProgress, o.Kind));
    }

    [Fact]
    public async Task SiloHoldingAnInProgressKeyIsKilled_KeyAnswersInProgressUntilTheLeaseExpires_ThenARetryRunsOnce()
    {
        var (cluster, _) = await TestClusters.StartAsync("idem-kill", idempotency: ShortLease);
        await using var _ = cluster;
        var key = cluster.Client.GetIdempotencyKey("public", "payment-7");
        var first = await key.Begin("fp");
        await cluster.KillSiloAsync(cluster.HostOf(key));
        var duringLease = await key.Begin("fp");
        await Task.Delay(ShortLease.Lease);
        var retry = await key.Begin("fp");
        var lateOriginal = await key.Complete(first.LeaseId, Created with { StatusCode = 500 });
        var retryDone = await key.Complete(retry.LeaseId, Created);
        var replay = await key.Begin("fp");

        Assert.Equal(IdempotencyOutcomeKind.Started, first.Kind);
        Assert.Equal(IdempotencyOutcomeKind.InProgress, duringLease.Kind);
        Assert.Equal(IdempotencyOutcomeKind.Started, retry.Kind);
        Assert.True(retry.TookOverExpiredLease);
        Assert.Equal(IdempotencyOutcomeKind.StaleLease, lateOriginal.Kind);
        Assert.Equal(IdempotencyOutcomeKind.Accepted, retryDone.Kind);
        Assert.Equal(201, replay.Response!.StatusCode);
    }

    /// <summary>
    /// The silo running a claimed request is killed: once the membership declares it dead, a retry takes the
    /// claim over at once (same operation), not after the 30 s lease.
    /// </summary>
    [Fact]
    public async Task ClaimOfASiloDeclaredDead_IsTakenOverAtOnce_NotAtLeaseExpiry()
    {
        var (cluster, _) = await TestClusters.StartAsync("idem-dead-holder", idempotency: new IdempotencyOptions());
        await using var _ = cluster;
        var (holder, survivor) = (cluster.Silos[^1], cluster.Silos[0]);
        var key = $"dead-holder-{Guid.NewGuid():N}";
        var first = await cluster.Client.GetIdempotencyKey("public", key).Begin("fp", holder.SiloAddress.ToParsableString());
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await cluster.KillSiloAsync(holder);
        var membership = survivor.SiloHost.Services.GetRequiredService<IClusterMembershipService>();
        while (membership.CurrentSnapshot.GetSiloStatus(holder.SiloAddress) != SiloStatus.Dead && clock.Elapsed < TimeSpan.FromSeconds(25))
        {
            await Task.Delay(100);
        }

        IdempotencyOutcome retry;
        while (true)
        {
            try
            {
                retry = await cluster.Client.GetIdempotencyKey("public", key).Begin("fp", survivor.SiloAddress.ToParsableString());
                break;
            }
            catch (Exception ex) when (ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException && clock.Elapsed < TimeSpan.FromSeconds(25))
            {
                // The key's grain may have lived on the killed silo: the next call reactivates it elsewhere.
            }
        }

        Assert.Equal(IdempotencyOutcomeKind.Started, retry.Kind);
        Assert.True(retry.TookOverExpiredLease);
        Assert.Equal(first.OperationId, retry.OperationId);
        Assert.True(clock.Elapsed < new IdempotencyOptions().Lease, $"taken over after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task CompletedKey_ReactivatedOnAnotherSilo_ReplaysTheSameStoredBody()
    {
        var (cluster, _) = await TestClusters.StartAsync("idem-replay", idempotency: new IdempotencyOptions());
        await using var _ = cluster;
        var key = cluster.Client.GetIdempotencyKey("public", "cart-add-1");
        var started = await key.Begin("fp");
        await key.Complete(started.LeaseId, Created);
        var firstHost = cluster.HostOf(key);

        await cluster.StopSiloAsync(firstHost);
        var shown = await key.Get();
        var replay = await key.Begin("fp");

        Assert.Equal(IdempotencyStatus.Completed, shown?.Status);
        Assert.NotEqual(firstHost.SiloAddress, cluster.HostOf(key).SiloAddress);
        Assert.Equal(IdempotencyOutcomeKind.Completed, replay.Kind);
        Assert.Equal(Created.Body.ToArray(), replay.Response!.Body.ToArray());
    }

    [Fact]
    public async Task RetentionExpiry_TheSweepRemovesTheRow_AndTheKeyStartsFreshAfterwards()
    {
        var (cluster, database) = await TestClusters.StartAsync("idem-sweep", silos: 1, idempotency: ShortTimings);
        await using var _ = cluster;
        var key = cluster.Client.GetIdempotencyKey("public", "expires");
        var started = await key.Begin("fp");
        await key.Complete(started.LeaseId, Created);
        Assert.Equal(1, await CountRowsAsync(database));

        await Task.Delay(ShortTimings.Retention + TimeSpan.FromMilliseconds(500));
        var swept = await cluster.Client.GetGrain<IIdempotencySweeperGrain>(IIdempotencySweeperGrain.DefaultKey).SweepNow();
        var again = await key.Begin("a new request");

        Assert.Equal(1, swept);
        Assert.Equal(IdempotencyOutcomeKind.Started, again.Kind);
        Assert.Equal(1, await CountRowsAsync(database));
    }

    /// <summary>
    /// A key completed before idempotency_keys existed (its row in orleansstorage, written by the ADO.NET
    /// storage) still replays: it is moved on first use, not claimed afresh.
    /// </summary>
    [Fact]
    public async Task AKeyCompletedInTheOldTable_StillReplays_AndIsMovedToTheNewOne()
    {
        var (cluster, database) = await TestClusters.StartAsync("idem-legacy", idempotency: ShortLease);
        await using var _ = cluster;
        var silo = cluster.Silos[0].SiloHost.Services;
        var legacy = silo.GetRequiredKeyedService<IGrainStorage>(IdempotencyStorage.LegacyName);
        var key = silo.GetRequiredService<IGrainFactory>().GetIdempotencyKey("public", "before-the-move");
        var now = DateTimeOffset.UtcNow;
        var record = new IdempotencyRecord(IdempotencyStatus.Completed, "fp", Guid.NewGuid(), now, now, Created, now, now.AddHours(1), ClaimId: "c1");
        await legacy.WriteStateAsync("idempotency", key.GetGrainId(), new GrainState<IdempotencyState>(new IdempotencyState(record)));

        var shown = await key.Get();
        var replay = await key.Begin("fp");
        var other = await key.Begin("another request");

        Assert.Equal(IdempotencyStatus.Completed, shown?.Status);
        Assert.Equal(IdempotencyOutcomeKind.Completed, replay.Kind);
        Assert.Equal(201, replay.Response!.StatusCode);
        Assert.Equal(IdempotencyOutcomeKind.Mismatch, other.Kind);
        Assert.Equal(1, await CountRowsAsync(database));
    }

    private static async Task<long> CountRowsAsync(DatabaseOptions database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionStringFor(StoreNames.Idempotency));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM idempotency_keys", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
