namespace Reliability.Services.EventSourcing;

/// <summary>What a command decided: events to append (a rejection event included), or an answer without any.</summary>
public sealed record Decision(IReadOnlyList<object> Events, CommandResult? WithoutEvents)
{
    public static Decision Emit(params object[] events) => new(events, null);

    /// <summary>Nothing to do: the command is satisfied as things are (e.g. releasing what was never reserved).</summary>
    public static Decision NothingToDo { get; } = new([], CommandResult.Applied(0, 0));

    /// <summary>Refused without recording, for an entity that does not exist (no stream is created for it).</summary>
    public static Decision Refuse(string code, string message) => new([], CommandResult.Rejected(code, message));
}
