namespace Reliability.Client.Infrastructure;

/// <summary>An expected failure with a message meant for the user; shown as one line, never with a stack trace.</summary>
public sealed class CommandException(string message, Exception? inner = null) : Exception(message, inner);
