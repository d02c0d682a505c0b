using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;

namespace Reliability.Sagas;

/// <summary>
/// Keeps every non-terminal saga alive with one reminder for the whole cluster, rather than one reminder
/// per saga (which cost two more writes per saga, measured in `bench saga`). A saga that is running
/// writes at every step; one that has not written for a while lost its silo, or waits out a backoff:
/// either way, Resume makes sure it is driven, on whatever silo activates it.
/// </summary>
public sealed partial class SagaSupervisorGrain(
    ISagaStore store,
    IOptions<SagaOptions> options,
    TimeProvider time,
    ILogger<SagaSupervisorGrain> logger) : Grain, ISagaSupervisorGrain, IRemindable
{
    private const string ReminderName = "supervise";
    private const int Batch = 500;

    public Task Ensure() => this.EnsureReminderAsync(ReminderName, options.Value.KeepAlivePeriod);

    public async Task ReceiveReminder(string reminderName, TickStatus status) => await SweepNow();

    public async Task<int> SweepNow()
    {
        // A healthy saga writes at least once per step timeout plus backoff; one quieter than that has stalled.
        var quiet = options.Value.StepTimeout + options.Value.BackoffMax + TimeSpan.FromSeconds(1);
        var stalled = await store.ListStalledAsync(time.GetUtcNow() - quiet, Batch);
        await Task.WhenAll(stalled.Select(async id =>
        {
            try
            {
                await GrainFactory.GetGrain<ISagaGrain>(id).Resume();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogResumeFailed(id, ex.Message);
            }
        }));

        if (stalled.Count > 0)
        {
            LogResumed(stalled.Count);
        }

        return stalled.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed {Count} stalled sagas")]
    private partial void LogResumed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga {SagaId} could not be resumed yet: {Reason}")]
    private partial void LogResumeFailed(string sagaId, string reason);
}
