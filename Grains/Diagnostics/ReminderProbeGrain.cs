using Reliability.Infrastructure;

namespace Reliability.Diagnostics;

public sealed class ReminderProbeGrain(
    [PersistentState("reminderProbe", StoreNames.Diagnostics)] IPersistentState<ReminderProbeState> state,
    ILocalSiloDetails silo,
    TimeProvider time) : Grain, IReminderProbeGrain, IRemindable
{
    private const string ReminderName = "probe";
    private const int KeptTicks = 50;

    public Task Start(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task Stop()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<ReminderProbeReport> GetReport() => Task.FromResult(new ReminderProbeReport(silo.Name, state.State.Ticks));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var ticks = state.State.Ticks.TakeLast(KeptTicks - 1).Append(new ReminderTick(time.GetUtcNow(), silo.Name)).ToList();
        await state.WriteAsync(new ReminderProbeState(ticks), GrainContext);
    }
}
