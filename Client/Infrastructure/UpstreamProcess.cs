using System.Diagnostics;
using Reliability.Client.Gateway;

namespace Reliability.Client.Infrastructure;

/// <summary>The demo upstream (<c>Client upstream</c>) as a process of its own, as another team's service would be.</summary>
public sealed class UpstreamProcess : IAsyncDisposable
{
    private readonly Process _process;

    private UpstreamProcess(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    /// <summary>Starts it on <paramref name="port"/> (0: a free one) and returns once it listens.</summary>
    public static async Task<UpstreamProcess> StartAsync(string? connectionString = null, bool honourKeys = false, int port = 0, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(SiloProcess.DotnetHost()) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(RepositoryPaths.ClientAssembly());
        start.ArgumentList.Add("upstream");
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString());
        start.ArgumentList.Add("--parent");
        start.ArgumentList.Add(Environment.ProcessId.ToString());
        if (honourKeys)
        {
            start.ArgumentList.Add("--honour-keys");
        }

        if (connectionString is not null)
        {
            start.ArgumentList.Add("--database");
            start.ArgumentList.Add(connectionString);
        }

        var process = Process.Start(start) ?? throw new CommandException("Could not start the demo upstream.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(UpstreamCommand.ReadyPrefix, StringComparison.Ordinal))
            {
                process.ErrorDataReceived += (_, _) => { };
                process.BeginErrorReadLine();
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return new UpstreamProcess(process, line[UpstreamCommand.ReadyPrefix.Length..].Trim());
            }
        }

        var error = await process.StandardError.ReadToEndAsync(CancellationToken.None);
        throw new CommandException($"The demo upstream exited before it listened: {error.Trim()}");
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
