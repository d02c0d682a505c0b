using System.Diagnostics;

namespace Reliability.Client.Infrastructure;

/// <summary>
/// One silo running as a separate process. Its output goes straight into a log file (through the shell's
/// redirection), so it keeps logging even if this process goes away first.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly Process _process;

    private SiloProcess(Process process, SiloEndpoint endpoint, string logFile)
    {
        _process = process;
        Endpoint = endpoint with { ProcessId = process.Id };
        LogFile = logFile;
    }

    public SiloEndpoint Endpoint { get; }

    public string LogFile { get; }

    public bool HasExited => _process.HasExited;

    public static SiloProcess Start(string siloAssembly, SiloEndpoint endpoint, string connectionString, string logFile, IReadOnlyDictionary<string, string>? settings = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        // In a network namespace (partition drills) the silo is started through `ip netns exec`, which execs it: same pid.
        start.ArgumentList.Add(endpoint.Namespace is null
            ? "exec \"$0\" \"$@\" >>\"$SILO_LOG\" 2>&1"
            : "exec ip netns exec \"$SILO_NETNS\" \"$0\" \"$@\" >>\"$SILO_LOG\" 2>&1");
        start.ArgumentList.Add(DotnetHost());
        start.ArgumentList.Add(siloAssembly);
        var arguments = new Dictionary<string, string>
        {
            ["Orleans:SiloName"] = endpoint.Name,
            ["Orleans:SiloPort"] = endpoint.SiloPort.ToString(),
            ["Orleans:GatewayPort"] = endpoint.GatewayPort.ToString(),
            ["Http:Port"] = endpoint.HttpPort.ToString(),
            ["RateLimitService:Port"] = endpoint.RlsPort.ToString(),
            // The silo stops by itself if this process dies without stopping it.
            ["Lifetime:ExitWithParent"] = Environment.ProcessId.ToString(),
        };
        if (endpoint.Namespace is not null)
        {
            arguments["Orleans:AdvertisedAddress"] = endpoint.Host;
            arguments["Http:BindAddress"] = endpoint.Host;
            start.Environment["SILO_NETNS"] = endpoint.Namespace;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments[key] = value;
        }

        foreach (var (key, value) in arguments)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["SILO_LOG"] = logFile;
        // The connection string carries a password: pass it in the environment, not on the command line.
        start.Environment["Database__ConnectionString"] = connectionString;
        var process = Process.Start(start) ?? throw new CommandException($"Could not start {siloAssembly}.");
        return new SiloProcess(process, endpoint, logFile);
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200; false if the process exits or time runs out.</summary>
    public async Task<bool> WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            if (await IsReadyAsync(cancellationToken))
            {
                return true;
            }

            await Task.Delay(200, cancellationToken);
        }

        return false;
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync($"{Endpoint.HttpUrl}/health/ready", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to the cluster, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGSTOP: the process is frozen, sockets open, as a long GC pause or a stalled VM; <see cref="ResumeAsync"/> thaws it.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    /// <summary>True if the process ends within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task SignalAsync(string signal)
    {
        if (!_process.HasExited)
        {
            await ProcessRunner.RunAsync("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>SIGTERM and a graceful leave; SIGKILL if it takes longer than <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        await SignalAsync("-TERM");
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public string TailOfLog(int lines)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return string.Join(Environment.NewLine, reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
    }

    internal static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet"
                ? self
                : "dotnet";
}
