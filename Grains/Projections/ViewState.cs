using System.Collections.Immutable;

namespace Reliability.Projections;

/// <summary>
/// A view and what it has applied: the last version per source stream (or, for a view that sees whole
/// stores in order, the last cursor per store), and the events it skipped because they could not be
/// applied (parked), which a replay may still apply once.
/// </summary>
[GenerateSerializer, Immutable, Alias("projections.view-state`1")]
public sealed record ViewState<TView>(
    TView? View,
    ImmutableDictionary<string, int> Applied,
    ImmutableDictionary<string, StoreCursor> Cursors,
    ImmutableHashSet<string> Skipped)
{
    public ViewState() : this(default, ImmutableDictionary<string, int>.Empty, ImmutableDictionary<string, StoreCursor>.Empty, ImmutableHashSet<string>.Empty)
    {
    }
}
