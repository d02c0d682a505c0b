namespace Reliability.Diagnostics;

/// <summary>The counter's total, how many writes made it, and the silo that answered.</summary>
[GenerateSerializer, Immutable, Alias("diagnostics.counter-snapshot")]
public sealed record CounterSnapshot(long Total, long Writes, string Silo);
