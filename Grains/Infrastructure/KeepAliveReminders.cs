using Microsoft.Extensions.DependencyInjection;

namespace Reliability.Infrastructure;

/// <summary>
/// The reminders that keep a cluster-wide grain alive (the saga supervisor, the idempotency sweeper, the
/// projection runners), ensured by every silo at start.
/// </summary>
public static class KeepAliveReminders
{
    /// <summary>
    /// Registers the reminder only if it is missing or has another period. Registering it again would move
    /// its next tick a whole period from now, so with silos restarting more often than the period (a rolling
    /// deploy, a chaos run) it would never tick.
    /// </summary>
    public static async Task EnsureReminderAsync(this Grain grain, string name, TimeSpan period)
    {
        var table = grain.GrainContext.ActivationServices.GetRequiredService<IReminderTable>();
        var existing = await table.ReadRow(grain.GetGrainId(), name);
        if (existing is null || existing.Period != period)
        {
            await grain.RegisterOrUpdateReminder(name, period, period);
        }
    }
}
