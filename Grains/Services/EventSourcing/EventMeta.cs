namespace Reliability.Services.EventSourcing;

/// <summary>What a fold knows of an event besides its data: the command that wrote it, and when.</summary>
public readonly record struct EventMeta(string? CommandId, DateTimeOffset At);
