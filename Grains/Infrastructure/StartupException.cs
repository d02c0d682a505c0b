namespace Reliability.Infrastructure;

/// <summary>A problem with configuration or the environment that stops a process from starting; its message is shown as is.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
