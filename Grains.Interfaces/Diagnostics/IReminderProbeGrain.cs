namespace Reliability.Diagnostics;

/// <summary>Registers a reminder and records, durably, which silo received each tick.</summary>
[Alias("diagnostics.reminder-probe")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);

    Task Stop();

    Task<ReminderProbeReport> GetReport();
}
