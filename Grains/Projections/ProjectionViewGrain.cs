using System.Collections.Immutable;
using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>
/// The common part of every view grain: apply a batch of events in order, skip what was applied
/// before (so a batch delivered twice after a runner crash changes nothing), retry a failing fold, then
/// skip it and report it to be parked; persist once per batch. A new runner epoch makes it read its row
/// again before it applies anything (see <see cref="IProjectionViewGrain.Apply"/>). An event skipped before is reported again
/// when it is delivered again, so a runner that crashed before parking it still parks it. Views of a
/// generation that is no longer live are collected after a few idle minutes.
/// </summary>
public abstract class ProjectionViewGrain<TView>(IPersistentState<ViewState<TView>> state) : Grain where TView : class
{
    private const int FoldAttempts = 3;

    /// <summary>True for a view that sees whole stores in order (totals): it remembers a cursor per store rather than versions per stream.</summary>
    protected virtual bool OrderedByStore => false;

    private Guid? _epoch;

    protected TView? View => state.State.View;

    /// <summary>The runner epoch of the batch being applied, for views this one passes its state on to.</summary>
    protected Guid Epoch => _epoch ?? Guid.Empty;

    protected abstract TView Initial();

    /// <summary>The pure fold.</summary>
    protected abstract TView Fold(TView view, object @event, ProjectedEvent meta);

    /// <summary>Runs after every batch, applied or not (e.g. to pass an order summary on to its customer's view).</summary>
    protected virtual Task AfterApplyAsync() => Task.CompletedTask;

    public async Task<ImmutableArray<ApplyFailure>> Apply(ImmutableArray<ProjectedEvent> events, Guid epoch)
    {
        if (_epoch is { } seen && seen != epoch)
        {
            // The runner went back to its durable checkpoint: this view's last writes may be gone with a crash.
            await state.ReadStateAsync();
        }

        _epoch = epoch;
        var current = state.State;
        var failures = ImmutableArray.CreateBuilder<ApplyFailure>();
        foreach (var e in events)
        {
            if (AlreadyApplied(current, e))
            {
                if (current.Skipped.Contains(Key(e)))
                {
                    failures.Add(new ApplyFailure(e.Store, e.Position, "skipped earlier, still not applied"));
                }

                continue;
            }

            var (view, error) = TryFold(current.View ?? Initial(), e);
            current = Mark(current, e) with { View = view ?? current.View };
            if (error is not null)
            {
                current = current with { Skipped = current.Skipped.Add(Key(e)) };
                failures.Add(new ApplyFailure(e.Store, e.Position, error));
            }
        }

        if (!ReferenceEquals(current, state.State))
        {
            await state.WriteAsync(current, GrainContext);
        }

        await AfterApplyAsync();
        return failures.ToImmutable();
    }

    /// <summary>
    /// Applies a parked event: one the view skipped because its fold failed, or one it never received (the
    /// runner could not read or deliver it) as long as nothing later of its stream was applied since.
    /// False if the fold still fails or the event can no longer be applied in order.
    /// </summary>
    public async Task<bool> Replay(ProjectedEvent e)
    {
        var current = state.State;
        var skipped = current.Skipped.Contains(Key(e));
        if (!skipped && AlreadyApplied(current, e))
        {
            return false;
        }

        var (view, error) = TryFold(current.View ?? Initial(), e);
        if (error is not null)
        {
            return false;
        }

        var next = skipped ? current with { Skipped = current.Skipped.Remove(Key(e)) } : Mark(current, e);
        await state.WriteAsync(next with { View = view }, GrainContext);
        await AfterApplyAsync();
        return true;
    }

    private (TView? View, string? Error) TryFold(TView view, ProjectedEvent e)
    {
        string? error = null;
        for (var attempt = 0; attempt < FoldAttempts; attempt++)
        {
            try
            {
                return (Fold(view, ProjectionEvents.Deserialize(e), e), null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                error = $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        return (null, error);
    }

    private bool AlreadyApplied(ViewState<TView> current, ProjectedEvent e) => OrderedByStore
        ? current.Cursors.TryGetValue(e.Store, out var cursor) && cursor.IsAtOrAfter(e.TxId, e.Position)
        : current.Applied.TryGetValue(e.StreamId, out var version) && version >= e.Version;

    private ViewState<TView> Mark(ViewState<TView> current, ProjectedEvent e) => OrderedByStore
        ? current with { Cursors = current.Cursors.SetItem(e.Store, new StoreCursor(e.TxId, e.Position)) }
        : current with { Applied = current.Applied.SetItem(e.StreamId, e.Version) };

    private static string Key(ProjectedEvent e) => $"{e.Store}:{e.Position}";
}
