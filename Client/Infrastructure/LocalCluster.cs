namespace Reliability.Client.Infrastructure;

/// <summary>Silo processes on this host against one database: started, watched, killed and restarted by name.</summary>
public sealed class LocalCluster(string siloAssembly, string connectionString, string logDirectory, IReadOnlyDictionary<string, string>? settings = null) : IAsyncDisposable
{
    private readonly Dictionary<string, SiloProcess> _silos = new(StringComparer.Ordinal);

    public IReadOnlyList<SiloProcess> Silos => _silos.Values.ToList();

    public string LogDirectory => logDirectory;

    /// <summary>
    /// Ports for silo <paramref name="index"/> (0-based): the defaults 11111+i, 30000+i, 8081+i and, for the
    /// rate-limit service, the base <c>RateLimitService__Port</c> of this environment (8181) + i; free ones if taken.
    /// </summary>
    public static SiloEndpoint PlanEndpoint(int index, bool preferDefaults = true)
    {
        int Pick(int preferred) => preferDefaults && FreePorts.IsFree(preferred) ? preferred : FreePorts.Next();
        var rlsBase = int.TryParse(Environment.GetEnvironmentVariable("RateLimitService__Port"), out var configured) && configured is > 0 and < 65000 ? configured : 8181;
        return new SiloEndpoint($"silo-{index + 1}", Pick(11111 + index), Pick(30000 + index), Pick(8081 + index), RlsPort: Pick(rlsBase + index));
    }

    public SiloProcess Start(SiloEndpoint endpoint)
    {
        var silo = SiloProcess.Start(siloAssembly, endpoint, connectionString, Path.Combine(logDirectory, $"{endpoint.Name}.log"), settings);
        _silos[endpoint.Name] = silo;
        return silo;
    }

    public async Task WaitUntilReadyAsync(SiloProcess silo, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!await silo.WaitUntilReadyAsync(timeout, cancellationToken))
        {
            var why = silo.HasExited ? "exited" : $"was not ready after {timeout.TotalSeconds:0} s";
            throw new CommandException($"{silo.Endpoint.Name} {why}; last lines of {silo.LogFile}:{Environment.NewLine}{silo.TailOfLog(8)}");
        }
    }

    /// <summary>Kills a silo with SIGKILL and starts it again on the same ports (a new generation in membership).</summary>
    public async Task<SiloProcess> RestartAsync(string name, bool kill, CancellationToken cancellationToken)
    {
        var old = _silos[name];
        if (kill)
        {
            old.Kill();
        }
        else
        {
            await old.StopAsync(TimeSpan.FromSeconds(30));
        }

        return Start(old.Endpoint with { ProcessId = 0 });
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_silos.Values.Select(s => s.DisposeAsync().AsTask()));
        _silos.Clear();
    }
}
