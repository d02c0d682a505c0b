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

    /// <summary>The one address the server listens on; loopback unless it runs in a drill's network namespace.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>A network namespace (made by <c>NetworkLab</c>) to run the server in, or null for this host's network.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Besides loopback, the client network (CIDR) allowed to log in with the password, e.g. a drill's subnet.</summary>
    public string? AllowedClients { get; init; }
}
