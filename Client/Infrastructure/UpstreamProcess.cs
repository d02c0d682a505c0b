namespace Reliability.Client.Infrastructure;

/// <summary>The demo upstream (<c>Client upstream</c>) as a process of its own, as another team's service would be.</summary>
public sealed class UpstreamProcess : IAsyncDisposable
{
    private readonly ServiceProcess _process;

    private UpstreamProcess(ServiceProcess process) => _process = process;

    public string Address => _process.Address;

    /// <summary>Starts it on <paramref name="port"/> (0: a free one) and returns once it listens.</summary>
    public static async Task<UpstreamProcess> StartAsync(string? connectionString = null, bool honourKeys = false, int port = 0, CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["upstream", "--port", port.ToString()];
        if (honourKeys)
        {
            arguments.Add("--honour-keys");
        }

        if (connectionString is not null)
        {
            arguments.AddRange(["--database", connectionString]);
        }

        return new UpstreamProcess(await ServiceProcess.StartAsync("the demo upstream", arguments, cancellationToken));
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
