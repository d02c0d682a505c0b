namespace Reliability.Infrastructure;

/// <summary>A problem with configuration or the environment that stops a process from starting; its message is shown as is.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Stops the start with <paramref name="message"/> (which names the setting) unless <paramref name="condition"/> holds.</summary>
    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new StartupException(message);
        }
    }
}
