using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Reliability.Infrastructure;

namespace Reliability.Idempotency;

/// <summary>
/// One idempotency key. Storage is used directly rather than through a persistent state, so that a fresh
/// activation does not read first: its first Begin is an optimistic insert (the claim itself, one
/// statement, like <c>INSERT … ON CONFLICT DO NOTHING</c>), and only a conflict — the key has a row —
/// makes it read. Every transition is written before the method answers.
/// <para>
/// Two activations of one key can exist for a moment when a silo fails; the version check of the store
/// then lets exactly one claim win, and the other re-reads and answers InProgress.
/// </para>
/// <para>
/// Retries come soon after the first request, so an idle key is collected after two minutes rather than
/// Orleans' fifteen: a busy API creates keys by the thousand per second, and a later replay simply
/// reads the row again.
/// </para>
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class IdempotencyKeyGrain(IdempotencyStateMachine machine, IdempotencyMetrics metrics, IClusterMembershipService membership, TimeProvider time) : Grain, IIdempotencyKeyGrain
{
    private const string StateName = "idempotency";
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(4);

    private readonly GrainState<IdempotencyState> _stored = new(new IdempotencyState());
    private IGrainStorage _storage = null!;
    private bool _loaded;
    private IdempotencyRecord? _durable;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StoreNames.Idempotency);
        return Task.CompletedTask;
    }

    public async Task<IdempotencyOutcome> Begin(string fingerprint, string? holder = null, TimeSpan? lease = null)
    {
        var outcome = await BeginAsync(fingerprint, holder, lease);
        metrics.Claimed(outcome);
        return outcome;
    }

    public Task<IdempotencyOutcome> Renew(Guid leaseId, TimeSpan? lease = null) =>
        ApplyAsync(current => machine.Renew(current, leaseId, time.GetUtcNow(), lease));

    public async Task<IdempotencyOutcome> Complete(Guid leaseId, StoredResponse response)
    {
        var outcome = await ApplyAsync(current => machine.Complete(current, leaseId, response, time.GetUtcNow()));
        metrics.Stored(outcome);
        return outcome;
    }

    public Task<IdempotencyOutcome> Abandon(Guid leaseId) =>
        ApplyAsync(current => machine.Abandon(current, leaseId, time.GetUtcNow()));

    public async Task WaitForChange(TimeSpan maxWait)
    {
        var changed = _changed.Task;
        await Task.WhenAny(changed, Task.Delay(maxWait < MaxWait ? maxWait : MaxWait, time));
    }

    public async Task<IdempotencyRecord?> Get()
    {
        if (_loaded)
        {
            return IdempotencyStateMachine.Live(_durable, time.GetUtcNow());
        }

        // A fresh activation (the key may have been used long ago) reads the stored record without adopting
        // it: Get interleaves with Begin and Complete, which own the activation's copy and its ETag.
        var stored = new GrainState<IdempotencyState>(new IdempotencyState());
        await _storage.ReadStateAsync(StateName, GrainContext.GrainId, stored);
        return IdempotencyStateMachine.Live(stored.State?.Record, time.GetUtcNow());
    }

    private async Task<IdempotencyOutcome> BeginAsync(string fingerprint, string? holder, TimeSpan? lease)
    {
        if (!_loaded)
        {
            var claim = machine.Begin(null, fingerprint, time.GetUtcNow(), Guid.NewGuid(), holder, lease: lease);
            if (await TryInsertAsync(claim.Next!))
            {
                return claim.Outcome;
            }
        }

        return await ApplyAsync(current => machine.Begin(current, fingerprint, time.GetUtcNow(), Guid.NewGuid(), holder, IsDead(current?.Holder), lease));
    }

    /// <summary>Whether the membership has declared the silo dead (a silo it no longer lists, or one not named, is not taken to be).</summary>
    private bool IsDead(string? silo)
    {
        if (silo is null)
        {
            return false;
        }

        try
        {
            return membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(silo)) == SiloStatus.Dead;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Decides on the durable record and writes the result; a version conflict means someone else wrote: read, decide again.</summary>
    private async Task<IdempotencyOutcome> ApplyAsync(Func<IdempotencyRecord?, IdempotencyTransition> decide)
    {
        if (!_loaded)
        {
            await LoadAsync();
        }

        var transition = decide(_durable);
        if (!transition.Changed)
        {
            return transition.Outcome;
        }

        try
        {
            await PersistAsync(transition.Next);
        }
        catch (InconsistentStateException)
        {
            await LoadAsync();
            transition = decide(_durable);
            if (transition.Changed)
            {
                await PersistAsync(transition.Next);
            }
        }

        return transition.Outcome;
    }

    private async Task<bool> TryInsertAsync(IdempotencyRecord claim)
    {
        _stored.ETag = null;
        _stored.State = new IdempotencyState(claim);
        try
        {
            await _storage.WriteStateAsync(StateName, GrainContext.GrainId, _stored);
        }
        catch (InconsistentStateException)
        {
            return false;
        }
        catch
        {
            // The insert may or may not have reached the database: the next call reads what it holds.
            _loaded = false;
            throw;
        }

        Published(claim);
        return true;
    }

    private async Task PersistAsync(IdempotencyRecord? next)
    {
        try
        {
            if (next is null)
            {
                await _storage.ClearStateAsync(StateName, GrainContext.GrainId, _stored);
            }
            else
            {
                _stored.State = new IdempotencyState(next);
                await _storage.WriteStateAsync(StateName, GrainContext.GrainId, _stored);
            }
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            _loaded = false;
            throw;
        }

        Published(next);
    }

    private async Task LoadAsync()
    {
        await _storage.ReadStateAsync(StateName, GrainContext.GrainId, _stored);
        _durable = _stored.State?.Record;
        _loaded = true;
    }

    private void Published(IdempotencyRecord? record)
    {
        _durable = record;
        _loaded = true;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
