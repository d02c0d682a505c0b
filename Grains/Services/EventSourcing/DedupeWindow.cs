using System.Collections.Immutable;

namespace Reliability.Services.EventSourcing;

/// <summary>Entries a service keeps only for the dedupe window (see <see cref="ServiceOptions.DedupeWindow"/>).</summary>
public static class DedupeWindow
{
    /// <summary>The entries dated at or after <paramref name="before"/>; the same instance when none is older.</summary>
    public static ImmutableDictionary<string, T> Since<T>(this ImmutableDictionary<string, T> entries, Func<T, DateTimeOffset> at, DateTimeOffset before) =>
        entries.Values.Any(v => at(v) < before) ? entries.RemoveRange(entries.Where(e => at(e.Value) < before).Select(e => e.Key)) : entries;
}
