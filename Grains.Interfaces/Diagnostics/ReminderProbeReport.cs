namespace Reliability.Diagnostics;

[GenerateSerializer, Immutable, Alias("diagnostics.reminder-tick")]
public sealed record ReminderTick(DateTimeOffset At, string Silo);

/// <summary>The silo now hosting the probe and the most recent ticks, oldest first.</summary>
[GenerateSerializer, Immutable, Alias("diagnostics.reminder-probe-report")]
public sealed record ReminderProbeReport(string Silo, IReadOnlyList<ReminderTick> Ticks);
