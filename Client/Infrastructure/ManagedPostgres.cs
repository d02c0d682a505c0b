using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;

namespace Reliability.Client.Infrastructure;

/// <summary>
/// A PostgreSQL server owned by this project: initialised in a directory of its own, listening on
/// 127.0.0.1 only, on a free port, with a generated password. When this process runs as root the server
/// runs as the <c>postgres</c> user, because PostgreSQL refuses to run as root.
/// </summary>
public sealed class ManagedPostgres : IAsyncDisposable
{
    private const string Superuser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly ManagedPostgresOptions _options;
    private readonly PostgresBinaries _binaries;
    private readonly bool _asPostgresUser;
    private bool _running;

    private ManagedPostgres(ManagedPostgresOptions options, PostgresBinaries binaries, string root, bool asPostgresUser)
    {
        _options = options;
        _binaries = binaries;
        _asPostgresUser = asPostgresUser;
        RootDirectory = root;
    }

    public string RootDirectory { get; }

    public int Port { get; private set; }

    public string Password { get; private set; } = "";

    private string DataDirectory => Path.Combine(RootDirectory, "data");

    private string LogFile => Path.Combine(RootDirectory, "postgres.log");

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = _options.ListenAddress,
        Port = Port,
        Database = database,
        Username = Superuser,
        Password = Password,
    }.ConnectionString;

    public static async Task<ManagedPostgres> StartAsync(ManagedPostgresOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var binaries = await PostgresBinaries.LocateAsync(cancellationToken);
        var asPostgresUser = Environment.IsPrivilegedProcess;
        if (asPostgresUser && !File.ReadLines("/etc/passwd").Any(l => l.StartsWith($"{Superuser}:", StringComparison.Ordinal)))
        {
            throw new CommandException("This process runs as root, PostgreSQL refuses to run as root, and there is no 'postgres' user to run it as: create one (useradd --system postgres) or run as a normal user.");
        }

        var server = new ManagedPostgres(options, binaries, Path.GetFullPath(options.RootDirectory), asPostgresUser);
        await server.InitialiseAsync(progress, cancellationToken);
        await server.StartServerAsync(progress, cancellationToken);
        await server.CreateDatabasesAsync(cancellationToken);
        return server;
    }

    /// <summary>A fast shutdown (open transactions are rolled back, committed data kept), then the same port again.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopServerAsync();
        await StartServerAsync(null, cancellationToken);
    }

    /// <summary>
    /// A crash: an immediate shutdown (no checkpoint, no clean stop: what was not flushed to the log is gone,
    /// and the next start replays the log), then the same port again.
    /// </summary>
    public async Task CrashAndStartAsync(CancellationToken cancellationToken = default)
    {
        await StopServerAsync("immediate");
        await StartServerAsync(null, cancellationToken);
    }

    public async Task StopAsync()
    {
        await StopServerAsync();
        if (_options.DeleteOnStop)
        {
            TryDelete(RootDirectory);
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Stops servers left behind by test runs whose process died, and removes their directories.</summary>
    public static async Task SweepAbandonedAsync(string parentDirectory)
    {
        if (!Directory.Exists(parentDirectory))
        {
            return;
        }

        foreach (var root in Directory.GetDirectories(parentDirectory))
        {
            var owner = ReadOwner(root);
            if (owner is not null && IsAlive(owner.Value))
            {
                continue;
            }

            var data = Path.Combine(root, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                var binaries = await PostgresBinaries.LocateAsync();
                var stale = new ManagedPostgres(new ManagedPostgresOptions { RootDirectory = root }, binaries, root, Environment.IsPrivilegedProcess);
                await stale.RunAsServerUserAsync(binaries.PgCtl, ["-D", data, "stop", "-m", "immediate", "-w", "-t", "30"]);
            }

            TryDelete(root);
        }
    }

    private async Task InitialiseAsync(Action<string>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(RootDirectory);
        var owner = ReadOwner(RootDirectory);
        if (owner is not null && owner != Environment.ProcessId && IsAlive(owner.Value))
        {
            throw new CommandException($"{RootDirectory} is in use by another run (process {owner}); stop that one first.");
        }

        await File.WriteAllTextAsync(Path.Combine(RootDirectory, "owner"), Environment.ProcessId.ToString(), cancellationToken);
        var passwordFile = Path.Combine(RootDirectory, "password");
        if (!File.Exists(passwordFile))
        {
            await File.WriteAllTextAsync(passwordFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(), cancellationToken);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        if (_asPostgresUser)
        {
            await RunCheckedAsync("chown", ["-R", $"{Superuser}:{Superuser}", RootDirectory], cancellationToken);
            var access = await ProcessRunner.RunAsync("runuser", ["-u", Superuser, "--", "test", "-w", RootDirectory], CommandTimeout, cancellationToken);
            if (!access.Succeeded)
            {
                throw new CommandException($"The 'postgres' user cannot write to {RootDirectory} (a parent directory is closed to it); choose a directory under /tmp.");
            }
        }

        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            await StopLeftoverAsync();
            return;
        }

        progress?.Invoke($"initialising a PostgreSQL data directory in {DataDirectory}");
        await RunAsServerUserCheckedAsync(_binaries.InitDb,
            ["-D", DataDirectory, "-U", Superuser, "--auth=scram-sha-256", $"--pwfile={passwordFile}", "--encoding=UTF8", "--locale=C", "--no-sync"],
            cancellationToken);
        if (_options.AllowedClients is { } clients)
        {
            await File.AppendAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), $"{Environment.NewLine}host all all {clients} scram-sha-256{Environment.NewLine}", cancellationToken);
        }
    }

    private async Task StartServerAsync(Action<string>? progress, CancellationToken cancellationToken)
    {
        var portFile = Path.Combine(RootDirectory, "port");
        if (Port == 0 && File.Exists(portFile) && int.TryParse(await File.ReadAllTextAsync(portFile, cancellationToken), out var last) && FreePorts.IsFree(last))
        {
            Port = last;
        }

        if (Port == 0 || !FreePorts.IsFree(Port))
        {
            Port = FreePorts.Next();
        }

        progress?.Invoke($"starting PostgreSQL on {_options.ListenAddress}:{Port}");
        var settings = new List<string>
        {
            $"-p {Port}", $"-c listen_addresses={_options.ListenAddress}", "-c unix_socket_directories=''",
            $"-c max_connections={_options.MaxConnections}", "-c shared_buffers=256MB",
        };
        if (!_options.Durable)
        {
            settings.AddRange(["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]);
        }

        var result = await RunAsServerUserAsync(_binaries.PgCtl,
            ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", string.Join(' ', settings), "start"], cancellationToken);
        if (!result.Succeeded)
        {
            throw new CommandException($"PostgreSQL did not start: {LastLines(result.Output, 3)} {LastLines(ReadLog(), 5)} (log: {LogFile})");
        }

        _running = true;
        File.WriteAllText(portFile, Port.ToString());
        await WaitUntilAcceptingAsync(cancellationToken);
    }

    private async Task WaitUntilAcceptingAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    private async Task CreateDatabasesAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        foreach (var database in _options.Databases)
        {
            if (!database.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                throw new ArgumentException($"Database name '{database}' must be lower-case letters, digits and underscores.", nameof(_options.Databases));
            }

            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    /// <summary>Stops the server: <c>fast</c> rolls back open transactions and checkpoints; <c>immediate</c> is a crash.</summary>
    private async Task StopServerAsync(string mode = "fast")
    {
        if (!_running)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await RunAsServerUserAsync(_binaries.PgCtl, ["-D", DataDirectory, "stop", "-m", mode, "-w", "-t", "60"]);
        _running = false;
    }

    /// <summary>A server still running from a run that died without stopping it.</summary>
    private async Task StopLeftoverAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            await RunAsServerUserAsync(_binaries.PgCtl, ["-D", DataDirectory, "stop", "-m", "fast", "-w", "-t", "60"]);
        }
    }

    private async Task RunAsServerUserCheckedAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsServerUserAsync(program, arguments, cancellationToken);
        if (!result.Succeeded)
        {
            throw new CommandException($"{Path.GetFileName(program)} failed: {LastLines(result.Output, 5)}");
        }
    }

    private Task<ProcessResult> RunAsServerUserAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> command = _asPostgresUser ? ["runuser", "-u", Superuser, "--", program, .. arguments] : [program, .. arguments];
        if (_options.NetworkNamespace is { } netns)
        {
            // The server (pg_ctl's child) inherits the namespace it is started in.
            command = ["ip", "netns", "exec", netns, .. command];
        }

        return ProcessRunner.RunAsync(command[0], command.Skip(1).ToList(), CommandTimeout, cancellationToken);
    }

    private static async Task RunCheckedAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, CommandTimeout, cancellationToken);
        if (!result.Succeeded)
        {
            throw new CommandException($"{program} failed: {LastLines(result.Output, 3)}");
        }
    }

    private string ReadLog()
    {
        try
        {
            return File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));

    private static int? ReadOwner(string root)
    {
        var file = Path.Combine(root, "owner");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) ? pid : null;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A directory that cannot be removed now is swept by the next run.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
