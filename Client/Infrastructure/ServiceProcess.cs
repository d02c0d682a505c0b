using System.Diagnostics;

namespace Reliability.Client.Infrastructure;

/// <summary>
/// A small HTTP service of the client (<c>Client upstream</c>, <c>Client participant</c>) run as a process of
/// its own, as another team's service would be: started with its arguments, ready once it prints
/// <see cref="ReadyPrefix"/> and its address, killed with its tree when disposed.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    public const string ReadyPrefix = "listening on ";

    private readonly Process _process;

    private ServiceProcess(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    /// <summary>Starts <c>Client &lt;command&gt; &lt;arguments&gt; --parent &lt;this process&gt;</c> and returns once it listens.</summary>
    public static async Task<ServiceProcess> StartAsync(string what, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(SiloProcess.DotnetHost()) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(RepositoryPaths.ClientAssembly());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--parent");
        start.ArgumentList.Add(Environment.ProcessId.ToString());
        var process = Process.Start(start) ?? throw new CommandException($"Could not start {what}.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(ReadyPrefix, StringComparison.Ordinal))
            {
                process.ErrorDataReceived += (_, _) => { };
                process.BeginErrorReadLine();
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return new ServiceProcess(process, line[ReadyPrefix.Length..].Trim());
            }
        }

        var error = await process.StandardError.ReadToEndAsync(CancellationToken.None);
        throw new CommandException($"{what} exited before it listened: {error.Trim()}");
    }

    /// <summary>True while the process of <paramref name="pid"/> runs (always, without one): services started with --parent end with their parent.</summary>
    public static bool ParentAlive(int? pid)
    {
        if (pid is null)
        {
            return true;
        }

        try
        {
            return !Process.GetProcessById(pid.Value).HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
