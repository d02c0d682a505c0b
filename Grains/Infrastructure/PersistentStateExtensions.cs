namespace Reliability.Infrastructure;

public static class PersistentStateExtensions
{
    /// <summary>
    /// Replaces the state and writes it. If the write fails, the old state is put back and the activation
    /// is retired, because the store may or may not hold the new value (a lost reply), and only a fresh
    /// read can tell; the next call then starts from what storage really holds.
    /// </summary>
    public static async Task WriteAsync<T>(this IPersistentState<T> state, T next, IGrainContext grain)
    {
        var previous = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            state.State = previous;
            grain.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, ex, "State write failed."));
            throw;
        }
    }
}
