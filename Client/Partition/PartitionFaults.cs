using System.Collections.Concurrent;
using Reliability.Client.Chaos;
using Reliability.Client.Infrastructure;

namespace Reliability.Client.Partition;

/// <summary>The network faults a drill can schedule, by the name <c>--faults</c> takes.</summary>
public enum NetworkFaultKind
{
    /// <summary>One silo cut from every other silo; it still reaches PostgreSQL.</summary>
    Isolate,

    /// <summary>One silo cut from PostgreSQL; it still reaches its peers.</summary>
    CutDatabase,

    /// <summary>A minority of the silos (1 of 3, 2 of 5) cut from the majority and from PostgreSQL, which stays with the majority.</summary>
    Split,

    /// <summary>One silo's links to its peers cut and healed every <see cref="PartitionFaults.FlapPeriod"/>.</summary>
    Flap,

    /// <summary>A share of the packets between one silo and every other lab host dropped, both ways.</summary>
    Loss,

    /// <summary>Latency added to everything one silo sends (tc netem), where the kernel has it.</summary>
    Latency,

    /// <summary>One silo's wall clock moved; not done (see <see cref="PartitionFaults.ClockJumpSkipped"/>).</summary>
    ClockJump,
}

/// <summary>One fault as it ran: what, on which silos, when it began and healed (offsets from the run's start), or why it was skipped.</summary>
public sealed record NetworkFault(NetworkFaultKind Kind, string Description, IReadOnlyList<string> Side, TimeSpan At)
{
    public TimeSpan? HealedAt { get; set; }

    /// <summary>When every silo was serving again after the heal (restarted where it had stopped itself).</summary>
    public TimeSpan? RecoveredAt { get; set; }

    public string? Skipped { get; set; }

    /// <summary>Silos of the cut side that found themselves declared dead and stopped (and were started again).</summary>
    public List<string> Stopped { get; } = [];

    /// <summary>Per silo (either side), how long after the fault began membership first held it dead.</summary>
    public ConcurrentDictionary<string, TimeSpan> DeclaredDead { get; } = new(StringComparer.Ordinal);

    /// <summary>Per silo (either side), how long after the fault began its process was first seen to have exited.</summary>
    public ConcurrentDictionary<string, TimeSpan> Exited { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Runs the drill's faults one after another on a <see cref="NetworkLab"/>: each is applied, held for the
/// cut time, healed, and followed by recovery (a silo the cluster declared dead stops itself, as it must,
/// and is started again, as a supervisor would) and a short settling time. Victims rotate from the last
/// silo, so the faults fall on different silos.
/// </summary>
public sealed class PartitionFaults(NetworkLab lab, LocalCluster silos, Availability clock, PartitionFaultOptions options, Action<string> progress)
{
    public static readonly TimeSpan FlapPeriod = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(200);

    public const string ClockJumpSkipped =
        "not run: a silo's wall clock cannot be moved without moving this host's (Linux time namespaces offset only the monotonic and boot clocks, not CLOCK_REALTIME)";

    private readonly List<NetworkFault> _faults = [];

    public IReadOnlyList<NetworkFault> Faults
    {
        get
        {
            lock (_faults)
            {
                return [.. _faults];
            }
        }
    }

    private IReadOnlyList<string> SiloNames => silos.Silos.Select(s => s.Endpoint.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var names = SiloNames;
        for (var i = 0; i < options.Kinds.Count; i++)
        {
            var kind = options.Kinds[i];
            var victim = names[names.Count - 1 - (i % names.Count)];
            await RunOneAsync(kind, victim, names, cancellationToken);
        }
    }

    private async Task RunOneAsync(NetworkFaultKind kind, string victim, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var peers = names.Where(n => n != victim).ToList();
        var minority = names.TakeLast(names.Count / 2).ToList();
        var majority = names.Except(minority).ToList();
        var (description, side) = kind switch
        {
            NetworkFaultKind.Isolate => ($"{victim} cut from its peers (PostgreSQL still reachable)", new[] { victim }),
            NetworkFaultKind.CutDatabase => ($"{victim} cut from PostgreSQL (peers still reachable)", [victim]),
            NetworkFaultKind.Split => ($"split {majority.Count}|{minority.Count}: {string.Join(",", minority)} cut from {string.Join(",", majority)} and PostgreSQL", [.. minority]),
            NetworkFaultKind.Flap => ($"{victim}'s links to its peers cut and healed every {FlapPeriod.TotalSeconds:0} s", [victim]),
            NetworkFaultKind.Loss => ($"{options.LossShare:P0} packet loss between {victim} and every other host", [victim]),
            NetworkFaultKind.Latency => ($"{Latency.TotalMilliseconds:0} ms added to everything {victim} sends", [victim]),
            _ => ($"{victim}'s clock jumps", new[] { victim }),
        };
        var fault = Add(new NetworkFault(kind, description, side, clock.Now));
        if (kind == NetworkFaultKind.ClockJump)
        {
            fault.Skipped = ClockJumpSkipped;
            progress($"skipped: clock jump: {ClockJumpSkipped}");
            return;
        }

        progress($"fault: {description}, for {options.CutFor.TotalSeconds:0} s");
        var cutUntil = clock.Now + options.CutFor;
        using var watching = new CancellationTokenSource();
        var watch = WatchAsync(fault, watching.Token);
        try
        {
            await HoldAsync(kind, fault, victim, peers, minority, majority, cutUntil, cancellationToken);
        }
        finally
        {
            await watching.CancelAsync();
            await watch;
        }
    }

    private async Task HoldAsync(NetworkFaultKind kind, NetworkFault fault, string victim, IReadOnlyList<string> peers,
        IReadOnlyList<string> minority, IReadOnlyList<string> majority, TimeSpan cutUntil, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case NetworkFaultKind.Isolate:
                await lab.CutAsync(victim, peers);
                break;
            case NetworkFaultKind.CutDatabase:
                await lab.CutAsync(victim, [PartitionCommand.PostgresHost]);
                break;
            case NetworkFaultKind.Split:
                foreach (var silo in minority)
                {
                    await lab.CutAsync(silo, [.. majority, PartitionCommand.PostgresHost]);
                }

                break;
            case NetworkFaultKind.Flap:
                for (var cut = true; clock.Now < cutUntil; cut = !cut)
                {
                    if (cut)
                    {
                        await lab.CutAsync(victim, peers);
                    }
                    else
                    {
                        await lab.HealAsync(victim);
                    }

                    await Task.Delay(FlapPeriod, cancellationToken);
                }

                break;
            case NetworkFaultKind.Loss:
                await lab.LoseAsync(victim, options.LossShare);
                break;
            case NetworkFaultKind.Latency:
                if (await lab.TryDelayAsync(victim, Latency) is { } why)
                {
                    fault.Skipped = $"not run: tc netem refused ({why}); this kernel has no sch_netem";
                    progress($"skipped: latency: {fault.Skipped}");
                    return;
                }

                break;
        }

        var left = cutUntil - clock.Now;
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, cancellationToken);
        }

        await lab.HealAllAsync();
        fault.HealedAt = clock.Now;
        progress($"healed after {(fault.HealedAt.Value - fault.At).TotalSeconds:0.0} s");
        await RecoverAsync(fault, cancellationToken);
        fault.RecoveredAt = clock.Now;
        progress($"every silo serves again, {(fault.RecoveredAt.Value - fault.HealedAt.Value).TotalSeconds:0.0} s after the heal" +
                 (fault.Stopped.Count > 0 ? $" ({string.Join(", ", fault.Stopped)} had found themselves declared dead, stopped, and were started again)" : ""));
        await Task.Delay(options.Settle, cancellationToken);
    }

    /// <summary>
    /// While a fault holds and until the cluster has recovered: every 250 ms, which silos membership holds
    /// dead and which processes have exited, each noted once with its time since the fault began.
    /// </summary>
    private async Task WatchAsync(NetworkFault fault, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var dead = await options.DeadSilos(stop);
                var now = clock.Now - fault.At;
                foreach (var silo in silos.Silos)
                {
                    if (dead.Contains((silo.Endpoint.Host, silo.Endpoint.SiloPort)))
                    {
                        fault.DeclaredDead.TryAdd(silo.Endpoint.Name, now);
                    }

                    if (silo.HasExited)
                    {
                        fault.Exited.TryAdd(silo.Endpoint.Name, now);
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // The drill reads membership from outside the lab's faults; a failed read is just a missed sample.
            }
        }
    }

    /// <summary>
    /// After a heal, a silo the others declared dead learns it from the membership table and stops; one that
    /// is still running may be about to. Waits for that (a silo serving requests as dead would be the
    /// violation), starts the stopped ones again, and waits until every silo answers ready.
    /// </summary>
    private async Task RecoverAsync(NetworkFault fault, CancellationToken cancellationToken)
    {
        var deadline = clock.Now + options.Recovery;
        while (clock.Now < deadline)
        {
            foreach (var silo in silos.Silos.Where(s => s.HasExited).ToList())
            {
                var name = silo.Endpoint.Name;
                fault.Stopped.Add(name);
                // The watch may not have sampled it yet, and the restart replaces the process it samples.
                fault.Exited.TryAdd(name, clock.Now - fault.At);
                progress($"{name} stopped itself (declared dead during the fault); starting it again");
                await ChaosFaults.StartAgainAsync(silos, name, progress, cancellationToken);
            }

            var ready = await Task.WhenAll(silos.Silos.Select(s => s.IsReadyAsync(cancellationToken)));
            if (ready.All(r => r) && await MembershipSettledAsync(cancellationToken))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }

        throw new CommandException($"the cluster did not recover within {options.Recovery.TotalSeconds:0} s of healing '{fault.Description}'.");
    }

    /// <summary>True when no silo is still running that the membership table holds dead: it would be a zombie about to stop.</summary>
    private async Task<bool> MembershipSettledAsync(CancellationToken cancellationToken)
    {
        var dead = await options.DeadSilos(cancellationToken);
        return silos.Silos.All(s => s.HasExited || !dead.Contains((s.Endpoint.Host, s.Endpoint.SiloPort)));
    }

    private NetworkFault Add(NetworkFault fault)
    {
        lock (_faults)
        {
            _faults.Add(fault);
        }

        return fault;
    }
}

/// <summary>
/// What a drill runs: the faults in order, how long each holds, how long to wait for recovery and to
/// settle after it, the share of packets the loss fault drops, and how to read the silos membership holds
/// dead (address and port whose newest generation is dead: a restarted silo is a newer generation).
/// </summary>
public sealed record PartitionFaultOptions(
    IReadOnlyList<NetworkFaultKind> Kinds,
    TimeSpan CutFor,
    TimeSpan Settle,
    TimeSpan Recovery,
    double LossShare,
    Func<CancellationToken, Task<IReadOnlySet<(string Host, int Port)>>> DeadSilos);
