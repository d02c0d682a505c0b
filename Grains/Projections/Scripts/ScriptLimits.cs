namespace Reliability.Projections.Scripts;

/// <summary>What a script may use, per call into it (one partitionBy or one handler), and in all.</summary>
public sealed record ScriptLimits
{
    /// <summary>Statements one call may run: an endless loop stops here, in a few milliseconds.</summary>
    public int MaxStatements { get; init; } = 20_000;

    /// <summary>Wall-clock time one call may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Bytes one call may allocate (measured on its thread, interpreter included).</summary>
    public long MaxMemoryBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Nested calls one call may make.</summary>
    public int MaxRecursion { get; init; } = 64;

    /// <summary>A view's state as JSON may not grow past this.</summary>
    public int MaxStateBytes { get; init; } = 256 * 1024;

    /// <summary>A script's source may not be longer than this.</summary>
    public int MaxSourceChars { get; init; } = 64 * 1024;

    public static ScriptLimits Default { get; } = new();
}

/// <summary>A script was refused at registration: where, and why.</summary>
public sealed class ScriptDefinitionException(string message) : Exception(message);

/// <summary>A registration's <c>stores</c> field does not say what its script reads.</summary>
public sealed class ScriptStoresMismatchException(string message) : Exception(message);
