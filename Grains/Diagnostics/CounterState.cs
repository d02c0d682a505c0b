namespace Reliability.Diagnostics;

[GenerateSerializer, Immutable, Alias("diagnostics.counter-state")]
public sealed record CounterState(long Total = 0, long Writes = 0);
