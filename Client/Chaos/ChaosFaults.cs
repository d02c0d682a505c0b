using Reliability.Client.Infrastructure;

namespace Reliability.Client.Chaos;

/// <summary>A failure the run caused: when (offset from the start), what, and how long until it was repaired.</summary>
public sealed record Fault(TimeSpan At, string Kind, string Target)
{
    public TimeSpan? RepairedAfter { get; set; }

    public string Describe() => $"{Kind} {Target} at {At.TotalSeconds:0.0} s";
}

/// <summary>
/// Kills a random silo with SIGKILL every period and starts it again at once (as a supervisor would),
/// and restarts PostgreSQL once, halfway through, away from the kills.
/// </summary>
public sealed class ChaosFaults(LocalCluster silos, ManagedPostgres postgres, Availability clock, TimeSpan killEvery, bool restartPostgres, Action<string> progress)
{
    private readonly List<Fault> _faults = [];

    public IReadOnlyList<Fault> Faults
    {
        get
        {
            lock (_faults)
            {
                return [.. _faults];
            }
        }
    }

    /// <summary>Kills at start + period, + 2 periods, …; the PostgreSQL restart halfway between two kills near the middle.</summary>
    public async Task RunAsync(TimeSpan start, TimeSpan until, CancellationToken cancellationToken)
    {
        var middle = start + (until - start) / 2;
        var postgresAt = !restartPostgres ? TimeSpan.MaxValue
            : middle + killEvery / 2 < until ? middle + killEvery / 2
            : middle;
        var nextKill = start + killEvery;
        while (true)
        {
            var next = nextKill < postgresAt ? nextKill : postgresAt;
            if (next >= until)
            {
                return;
            }

            var wait = next - clock.Now;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            if (next == postgresAt)
            {
                await RestartPostgresAsync(cancellationToken);
                postgresAt = TimeSpan.MaxValue;
            }
            else
            {
                await KillAndRestartAsync(cancellationToken);
                nextKill += killEvery;
            }
        }
    }

    private async Task KillAndRestartAsync(CancellationToken cancellationToken)
    {
        var candidates = silos.Silos.Where(s => !s.HasExited).ToList();
        var victim = candidates[Random.Shared.Next(candidates.Count)];
        var fault = Add(new Fault(clock.Now, "kill -9", victim.Endpoint.Name));
        progress($"kill -9 {victim.Endpoint.Name} (pid {victim.Endpoint.ProcessId}); starting it again");
        var restarted = await silos.RestartAsync(victim.Endpoint.Name, kill: true, cancellationToken);
        await silos.WaitUntilReadyAsync(restarted, TimeSpan.FromSeconds(120), cancellationToken);
        fault.RepairedAfter = clock.Now - fault.At;
        progress($"{victim.Endpoint.Name} is back after {fault.RepairedAfter.Value.TotalSeconds:0.0} s");
    }

    private async Task RestartPostgresAsync(CancellationToken cancellationToken)
    {
        var fault = Add(new Fault(clock.Now, "restart", "PostgreSQL"));
        progress("restarting PostgreSQL (fast shutdown: open transactions roll back)");
        await postgres.RestartAsync(cancellationToken);
        fault.RepairedAfter = clock.Now - fault.At;
        progress($"PostgreSQL is back after {fault.RepairedAfter.Value.TotalSeconds:0.0} s");
    }

    private Fault Add(Fault fault)
    {
        lock (_faults)
        {
            _faults.Add(fault);
        }

        return fault;
    }
}
