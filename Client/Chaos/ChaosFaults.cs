using Reliability.Client.Infrastructure;

namespace Reliability.Client.Chaos;

/// <summary>A failure the run caused: when (offset from the start), what, and how long until it was repaired.</summary>
public sealed record Fault(TimeSpan At, string Kind, string Target)
{
    public TimeSpan? RepairedAfter { get; set; }

    public string Describe() => $"{Kind} {Target} at {At.TotalSeconds:0.0} s";
}

/// <summary>
/// The faults of a chaos run, scheduled against the run's clock:
/// <list type="bullet">
/// <item>every period, a random silo is paused with SIGSTOP for longer than failure detection and then
/// resumed (the zombie: it must find itself declared dead and stop, and is then started again), or, every
/// other time, killed with SIGKILL and started again at once (as a supervisor would);</item>
/// <item>PostgreSQL crashes once (an immediate shutdown, then a start that replays its log), a third of the
/// way through, and restarts cleanly once, two thirds of the way, each halfway between two silo faults.</item>
/// </list>
/// </summary>
public sealed class ChaosFaults(LocalCluster silos, ManagedPostgres postgres, Availability clock, ChaosFaultOptions options, Action<string> progress)
{
    /// <summary>
    /// Longer than failure detection of a stalled silo. A killed one refuses connections and is declared dead
    /// in about 3 s; a frozen one keeps its connections, and Orleans suppresses votes against a silo heard from
    /// within its probes' window (3 missed probes × the 4 s longest probe timeout = 12 s), so it takes about
    /// 15 s. 20 s is past both.
    /// </summary>
    public static readonly TimeSpan PauseFor = TimeSpan.FromSeconds(20);

    /// <summary>How long a resumed silo may take to notice it was declared dead and stop.</summary>
    private static readonly TimeSpan ZombieStopsWithin = TimeSpan.FromSeconds(30);

    private readonly List<Fault> _faults = [];
    private readonly List<string> _zombies = [];

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

    /// <summary>Paused silos that were still running long after they were resumed (they should have stopped themselves).</summary>
    public IReadOnlyList<string> ZombiesThatKeptRunning
    {
        get
        {
            lock (_faults)
            {
                return [.. _zombies];
            }
        }
    }

    /// <summary>
    /// Two timelines at once: the silo faults, one every period (each waits for the previous to be repaired,
    /// and a pause takes half a minute), and the database faults at their fixed times, which may land while a
    /// silo is down. A fault whose time comes after the load is left out.
    /// </summary>
    public Task RunAsync(TimeSpan start, TimeSpan until, CancellationToken cancellationToken)
    {
        var period = options.KillEvery;
        var third = (until - start) / 3;
        var silo = new List<(TimeSpan At, Func<CancellationToken, Task> Run)>();
        var index = 0;
        for (var at = start + period; at < until; at += period, index++)
        {
            // A pause first: it is the longest fault, and one that ran late behind a slow restart could fall
            // past a short run's end and be left out.
            silo.Add((at, options.Pauses && index % 2 == 0 ? PauseAndRestartAsync : KillAndRestartAsync));
        }

        var database = new List<(TimeSpan At, Func<CancellationToken, Task> Run)>();
        if (options.CrashPostgres)
        {
            database.Add((start + third + period / 2, CrashPostgresAsync));
        }

        if (options.RestartPostgres)
        {
            database.Add((start + (2 * third) + period / 2, RestartPostgresAsync));
        }

        return Task.WhenAll(RunTimelineAsync(silo, until, cancellationToken), RunTimelineAsync(database, until, cancellationToken));
    }

    private async Task RunTimelineAsync(List<(TimeSpan At, Func<CancellationToken, Task> Run)> timeline, TimeSpan until, CancellationToken cancellationToken)
    {
        foreach (var (at, run) in timeline.OrderBy(f => f.At))
        {
            if (at >= until || clock.Now >= until)
            {
                return;
            }

            var wait = at - clock.Now;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            await run(cancellationToken);
        }
    }

    private async Task KillAndRestartAsync(CancellationToken cancellationToken)
    {
        var victim = PickVictim();
        var fault = Add(new Fault(clock.Now, "kill -9", victim.Endpoint.Name));
        progress($"kill -9 {victim.Endpoint.Name} (pid {victim.Endpoint.ProcessId}); starting it again");
        await StartAgainAsync(victim.Endpoint.Name, cancellationToken);
        fault.RepairedAfter = clock.Now - fault.At;
        progress($"{victim.Endpoint.Name} is back after {fault.RepairedAfter.Value.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// SIGSTOP for <see cref="PauseFor"/>, then SIGCONT: the cluster declares the silo dead meanwhile, and the
    /// resumed process, finding itself dead, must stop. Whatever it had queued may still run for a moment, and
    /// must apply nothing twice nor after its compensation (the invariants check it). Then a new process.
    /// </summary>
    private async Task PauseAndRestartAsync(CancellationToken cancellationToken)
    {
        var victim = PickVictim();
        var fault = Add(new Fault(clock.Now, $"SIGSTOP {PauseFor.TotalSeconds:0} s", victim.Endpoint.Name));
        progress($"pausing {victim.Endpoint.Name} (pid {victim.Endpoint.ProcessId}) for {PauseFor.TotalSeconds:0} s");
        await victim.PauseAsync();
        try
        {
            await Task.Delay(PauseFor, cancellationToken);
        }
        finally
        {
            await victim.ResumeAsync();
        }

        var stopped = await victim.WaitForExitAsync(ZombieStopsWithin);
        if (!stopped)
        {
            lock (_faults)
            {
                _zombies.Add(victim.Endpoint.Name);
            }
        }

        progress(stopped
            ? $"{victim.Endpoint.Name} found itself declared dead and stopped; starting it again"
            : $"{victim.Endpoint.Name} was still running {ZombieStopsWithin.TotalSeconds:0} s after it was resumed; killing it");
        await StartAgainAsync(victim.Endpoint.Name, cancellationToken);
        fault.RepairedAfter = clock.Now - fault.At;
        progress($"{victim.Endpoint.Name} is back after {fault.RepairedAfter.Value.TotalSeconds:0.0} s");
    }

    private Task RestartPostgresAsync(CancellationToken cancellationToken) =>
        PostgresFaultAsync("restart", "restarting PostgreSQL (fast shutdown: open transactions roll back)", postgres.RestartAsync, cancellationToken);

    private Task CrashPostgresAsync(CancellationToken cancellationToken) =>
        PostgresFaultAsync("crash", "crashing PostgreSQL (pg_ctl stop -m immediate: no checkpoint; the start replays the log)", postgres.CrashAndStartAsync, cancellationToken);

    private async Task PostgresFaultAsync(string kind, string description, Func<CancellationToken, Task> fault, CancellationToken cancellationToken)
    {
        var recorded = Add(new Fault(clock.Now, kind, "PostgreSQL"));
        progress(description);
        await fault(cancellationToken);
        recorded.RepairedAfter = clock.Now - recorded.At;
        progress($"PostgreSQL is back after {recorded.RepairedAfter.Value.TotalSeconds:0.0} s");
    }

    private Task StartAgainAsync(string name, CancellationToken cancellationToken) => StartAgainAsync(silos, name, progress, cancellationToken);

    /// <summary>Kills what is left of the silo and starts a new process, again if it exits while starting (the database may be down at that moment).</summary>
    internal static async Task StartAgainAsync(LocalCluster silos, string name, Action<string> progress, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var restarted = await silos.RestartAsync(name, kill: true, cancellationToken);
            try
            {
                await silos.WaitUntilReadyAsync(restarted, TimeSpan.FromSeconds(120), cancellationToken);
                return;
            }
            catch (CommandException) when (attempt < 3 && restarted.HasExited)
            {
                progress($"{name} exited while starting; starting it again");
            }
        }
    }

    private SiloProcess PickVictim()
    {
        var candidates = silos.Silos.Where(s => !s.HasExited).ToList();
        return candidates[Random.Shared.Next(candidates.Count)];
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

/// <summary>Which faults a chaos run mixes in, and how often a silo fault comes.</summary>
public sealed record ChaosFaultOptions(TimeSpan KillEvery, bool Pauses, bool CrashPostgres, bool RestartPostgres);
