namespace Reliability.Diagnostics;

[GenerateSerializer, Immutable, Alias("diagnostics.reminder-probe-state")]
public sealed record ReminderProbeState(IReadOnlyList<ReminderTick> Ticks)
{
    public ReminderProbeState() : this([])
    {
    }
}
