using System.Collections.Immutable;
using Reliability.Infrastructure;

namespace Reliability.Projections.Scripts;

/// <summary>
/// One partition of a JavaScript projection. It applies batches like every view (skip what it applied,
/// persist once per batch, read its row again on a new runner epoch), folding with the script version its
/// generation is built with. A view sees its events in store order, so it remembers a cursor per store
/// (its state stays small however many streams feed it). An event whose handler throws or exceeds a limit
/// is refused with the script's error (the runner parks it) and leaves the state as it was before it.
/// </summary>
[CollectionAgeLimit(Minutes = 5)]
public sealed class ScriptViewGrain(
    [PersistentState("view", StoreNames.Projections)] IPersistentState<ViewState<ScriptView>> state,
    OpenCatalog catalog,
    TimeProvider time) : Grain, IScriptViewGrain
{
    private Guid? _epoch;
    private ScriptProjection? _script;

    public Task<ScriptView?> Get() => Task.FromResult(state.State.View);

    public async Task<ImmutableArray<ApplyFailure>> Apply(ImmutableArray<ProjectedEvent> events, Guid epoch)
    {
        if (_epoch is { } seen && seen != epoch)
        {
            await state.ReadStateAsync();
        }

        _epoch = epoch;
        var script = await ScriptAsync();
        var current = state.State;
        var failures = ImmutableArray.CreateBuilder<ApplyFailure>();
        var fresh = new List<ProjectedEvent>(events.Length);
        foreach (var e in events)
        {
            if (AlreadyApplied(current, e))
            {
                if (current.Skipped.Contains(Key(e)))
                {
                    failures.Add(new ApplyFailure(e.Store, e.Position, "skipped earlier, still not applied"));
                }
            }
            else
            {
                fresh.Add(e);
            }
        }

        if (fresh.Count == 0)
        {
            return failures.ToImmutable();
        }

        var next = FoldBatch(script, current, fresh, failures) ?? FoldOneByOne(script, current, fresh, failures);
        await state.WriteAsync(next, GrainContext);
        return failures.ToImmutable();
    }

    public async Task<bool> Replay(ProjectedEvent e)
    {
        var current = state.State;
        var skipped = current.Skipped.Contains(Key(e));
        if (!skipped && AlreadyApplied(current, e))
        {
            return false;
        }

        var script = await ScriptAsync();
        using var fold = script.Fold(current.View?.Json);
        if (fold.TryApply(e) is not null || fold.Finish() is not (Json: { } json, Error: null))
        {
            return false;
        }

        var marked = skipped ? current with { Skipped = current.Skipped.Remove(Key(e)) } : Mark(current, e);
        await state.WriteAsync(marked with { View = new ScriptView(json, (current.View?.Events ?? 0) + 1, time.GetUtcNow()) }, GrainContext);
        return true;
    }

    /// <summary>The whole batch in one fold; null when the state it ends with cannot be kept (then one event at a time finds the culprit).</summary>
    private ViewState<ScriptView>? FoldBatch(ScriptProjection script, ViewState<ScriptView> current, List<ProjectedEvent> events, ImmutableArray<ApplyFailure>.Builder failures)
    {
        using var fold = script.Fold(current.View?.Json);
        var applied = 0;
        var refused = new List<ApplyFailure>();
        var next = current;
        foreach (var e in events)
        {
            next = Mark(next, e);
            if (fold.TryApply(e) is { } error)
            {
                next = next with { Skipped = next.Skipped.Add(Key(e)) };
                refused.Add(new ApplyFailure(e.Store, e.Position, error));
            }
            else
            {
                applied++;
            }
        }

        var (json, finishError) = fold.Finish();
        if (finishError is not null)
        {
            return null;
        }

        failures.AddRange(refused);
        return applied == 0 ? next : next with { View = new ScriptView(json!, (current.View?.Events ?? 0) + applied, time.GetUtcNow()) };
    }

    private ViewState<ScriptView> FoldOneByOne(ScriptProjection script, ViewState<ScriptView> current, List<ProjectedEvent> events, ImmutableArray<ApplyFailure>.Builder failures)
    {
        var next = current;
        foreach (var e in events)
        {
            next = Mark(next, e);
            using var fold = script.Fold(next.View?.Json);
            var error = fold.TryApply(e);
            var (json, finishError) = error is null ? fold.Finish() : (null, error);
            if (finishError is not null || json is null)
            {
                next = next with { Skipped = next.Skipped.Add(Key(e)) };
                failures.Add(new ApplyFailure(e.Store, e.Position, finishError ?? "the state is not JSON"));
            }
            else
            {
                next = next with { View = new ScriptView(json, (next.View?.Events ?? 0) + 1, time.GetUtcNow()) };
            }
        }

        return next;
    }

    private async Task<ScriptProjection> ScriptAsync()
    {
        if (_script is null)
        {
            var (projection, generation, _) = ViewKey.Parse(this.GetPrimaryKeyString());
            _script = await catalog.ForGenerationAsync(projection, generation)
                ?? throw new InvalidOperationException($"Generation {generation} of projection '{projection}' has no script version assigned.");
        }

        return _script;
    }

    private static bool AlreadyApplied(ViewState<ScriptView> current, ProjectedEvent e) =>
        current.Cursors.TryGetValue(e.Store, out var cursor) && cursor.IsAtOrAfter(e.TxId, e.Position);

    private static ViewState<ScriptView> Mark(ViewState<ScriptView> current, ProjectedEvent e) =>
        current with { Cursors = current.Cursors.SetItem(e.Store, new StoreCursor(e.TxId, e.Position)) };

    private static string Key(ProjectedEvent e) => $"{e.Store}:{e.Position}";
}
