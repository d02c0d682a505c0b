namespace Reliability.Client.Infrastructure;

public sealed class ManagedPostgresOptions
{
    /// <summary>Holds <c>data/</c>, <c>postgres.log</c>, the generated password and the last port used.</summary>
    public required string RootDirectory { get; init; }

    /// <summary>Databases created (if missing) once the server is up.</summary>
    public IReadOnlyList<string> Databases { get; init; } = [];

    /// <summary>
    /// False for throw-away test servers: no fsync, no synchronous commit. Crash safety of the server itself
    /// is then gone, which tests do not need; a clean stop or restart still keeps every committed row.
    /// </summary>
    public bool Durable { get; init; } = true;

    /// <summary>Remove the whole directory when the server stops.</summary>
    public bool DeleteOnStop { get; init; }

    public int MaxConnections { get; init; } = 500;
}
