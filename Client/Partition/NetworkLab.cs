using System.Globalization;
using Reliability.Client.Infrastructure;

namespace Reliability.Client.Partition;

/// <summary>One network host of a lab: a network namespace with one interface on the lab's bridge.</summary>
public sealed record LabHost(string Name, string Namespace, string Address);

/// <summary>
/// Separate network hosts on this machine for partition drills: one network namespace per host (a silo, or
/// PostgreSQL), each with a veth pair into one bridge, on a /24 of its own. This process stays in the host's
/// network and reaches every namespace through the bridge's address (<see cref="ClientAddress"/>), which the
/// faults never cut: the drill's client sees both sides of a partition.
///
/// Faults are iptables rules and qdiscs inside a namespace, so healing one is flushing them there. Everything
/// is named <c>rtk{pid}…</c> after the process that made it; <see cref="DisposeAsync"/> removes it all, and
/// <see cref="SweepAbandonedAsync"/> removes what a run that died left behind.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private const string Prefix = "rtk";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, LabHost> _hosts = new(StringComparer.Ordinal);
    private readonly string _bridge;
    private bool _disposed;

    private NetworkLab(int owner)
    {
        Owner = owner;
        _bridge = $"{Prefix}{owner}br";
        // 10.231.x.0/24, x from the owner's pid: two concurrent labs rarely share one, and a lab's sweep
        // removes any left behind.
        Subnet = $"10.231.{owner % 250}";
    }

    public int Owner { get; }

    /// <summary>The first three octets of the lab's /24.</summary>
    public string Subnet { get; }

    public string Cidr => $"{Subnet}.0/24";

    /// <summary>The bridge's own address: where this process's requests come from.</summary>
    public string ClientAddress => $"{Subnet}.254";

    public IReadOnlyList<LabHost> Hosts => [.. _hosts.Values];

    public LabHost this[string name] => _hosts[name];

    /// <summary>Null when namespaces can be made here, else why not (in words an operator can act on).</summary>
    public static async Task<string?> WhyUnavailableAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "partition drills need Linux network namespaces.";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "partition drills make network namespaces and iptables rules, which needs root (run as root, or in a VM or container with CAP_NET_ADMIN).";
        }

        foreach (var tool in new[] { "ip", "iptables" })
        {
            if (!ExistsOnPath(tool))
            {
                return $"'{tool}' is not installed: apt-get install iproute2 iptables.";
            }
        }

        var probe = $"{Prefix}{Environment.ProcessId}probe";
        var made = await RunAsync(["ip", "netns", "add", probe]);
        if (!made.Succeeded)
        {
            return $"this machine refuses to make a network namespace ({made.Output.Trim()}): run on a host or VM that allows it.";
        }

        await RunAsync(["ip", "netns", "del", probe]);
        return null;
    }

    /// <summary>Makes the bridge and one namespace per host name; host i gets address .(10+i), in the order given.</summary>
    public static async Task<NetworkLab> CreateAsync(IReadOnlyList<string> hostNames, Action<string>? progress = null)
    {
        if (await WhyUnavailableAsync() is { } why)
        {
            throw new CommandException(why);
        }

        await SweepAbandonedAsync(progress);
        var lab = new NetworkLab(Environment.ProcessId);
        try
        {
            await lab.RequireAsync(["ip", "link", "add", lab._bridge, "type", "bridge"]);
            await lab.RequireAsync(["ip", "addr", "add", $"{lab.ClientAddress}/24", "dev", lab._bridge]);
            await lab.RequireAsync(["ip", "link", "set", lab._bridge, "up"]);
            for (var i = 0; i < hostNames.Count; i++)
            {
                await lab.AddHostAsync(hostNames[i], i);
            }

            progress?.Invoke($"network lab {lab.Cidr}: " + string.Join(", ", lab.Hosts.Select(h => $"{h.Name} {h.Address}")));
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    private async Task AddHostAsync(string name, int index)
    {
        var host = new LabHost(name, $"{Prefix}{Owner}-{name}", $"{Subnet}.{10 + index}");
        var outside = $"{Prefix}{Owner}v{index}";
        await RequireAsync(["ip", "netns", "add", host.Namespace]);
        _hosts[name] = host;
        await RequireAsync(["ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace]);
        await RequireAsync(["ip", "link", "set", outside, "master", _bridge, "up"]);
        await RequireAsync(["ip", "-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0"]);
        await RequireAsync(["ip", "-n", host.Namespace, "link", "set", "eth0", "up"]);
        await RequireAsync(["ip", "-n", host.Namespace, "link", "set", "lo", "up"]);
    }

    /// <summary>Drops every packet between <paramref name="host"/> and each of <paramref name="peers"/>, both ways (a cut, not a refusal: connections hang).</summary>
    public async Task CutAsync(string host, IEnumerable<string> peers)
    {
        foreach (var peer in peers)
        {
            var address = this[peer].Address;
            await IptablesAsync(host, ["-A", "INPUT", "-s", address, "-j", "DROP"]);
            await IptablesAsync(host, ["-A", "OUTPUT", "-d", address, "-j", "DROP"]);
        }
    }

    /// <summary>Drops the given share of the packets between <paramref name="host"/> and the other lab hosts, both ways (not those of the drill's client).</summary>
    public async Task LoseAsync(string host, double share)
    {
        var probability = share.ToString("0.###", CultureInfo.InvariantCulture);
        foreach (var peer in _hosts.Values.Where(h => h.Name != host))
        {
            await IptablesAsync(host, ["-A", "INPUT", "-s", peer.Address, "-m", "statistic", "--mode", "random", "--probability", probability, "-j", "DROP"]);
            await IptablesAsync(host, ["-A", "OUTPUT", "-d", peer.Address, "-m", "statistic", "--mode", "random", "--probability", probability, "-j", "DROP"]);
        }
    }

    /// <summary>Adds latency to everything <paramref name="host"/> sends (tc netem); null if it took, else why not (e.g. a kernel without sch_netem).</summary>
    public async Task<string?> TryDelayAsync(string host, TimeSpan delay)
    {
        var result = await RunAsync(["ip", "netns", "exec", this[host].Namespace, "tc", "qdisc", "add", "dev", "eth0", "root", "netem",
            "delay", $"{(int)delay.TotalMilliseconds}ms"]);
        return result.Succeeded ? null : result.Output.Trim();
    }

    /// <summary>Removes every fault of one host: its iptables rules and its qdisc.</summary>
    public async Task HealAsync(string host)
    {
        await IptablesAsync(host, ["-F", "INPUT"]);
        await IptablesAsync(host, ["-F", "OUTPUT"]);
        // There is no qdisc to delete unless a delay was added: the error of that case means nothing.
        await RunAsync(["ip", "netns", "exec", this[host].Namespace, "tc", "qdisc", "del", "dev", "eth0", "root"]);
    }

    public async Task HealAllAsync()
    {
        foreach (var host in _hosts.Keys)
        {
            await HealAsync(host);
        }
    }

    /// <summary>Removes namespaces, veths and bridges named after processes that are gone.</summary>
    public static async Task SweepAbandonedAsync(Action<string>? progress = null)
    {
        var namespaces = await RunAsync(["ip", "netns", "list"]);
        foreach (var line in namespaces.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = line.Split(' ')[0];
            if (OwnerOf(name) is { } owner && !IsAlive(owner))
            {
                progress?.Invoke($"removing network namespace {name}, left by process {owner}");
                await RunAsync(["ip", "netns", "del", name]);
            }
        }

        var links = await RunAsync(["ip", "-o", "link", "show"]);
        foreach (var line in links.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "7: rtk123br: <…>" or "8: rtk123v0@if2: <…>"
            var parts = line.Split(':', 3, StringSplitOptions.TrimEntries);
            if (parts.Length < 2)
            {
                continue;
            }

            var name = parts[1].Split('@')[0];
            if (OwnerOf(name) is { } owner && !IsAlive(owner))
            {
                await RunAsync(["ip", "link", "del", name]);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var host in _hosts.Values)
        {
            // Deleting a namespace deletes its end of the veth pair, and with it the other end.
            await RunAsync(["ip", "netns", "del", host.Namespace]);
        }

        _hosts.Clear();
        await RunAsync(["ip", "link", "del", _bridge]);
    }

    /// <summary>The pid in a name this class made (<c>rtk{pid}-…</c>, <c>rtk{pid}br</c>, <c>rtk{pid}v{i}</c>, <c>rtk{pid}probe</c>).</summary>
    public static int? OwnerOf(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var digits = name[Prefix.Length..].TakeWhile(char.IsAsciiDigit).ToArray();
        var rest = name[(Prefix.Length + digits.Length)..];
        var known = rest.StartsWith('-') || rest == "br" || rest == "probe" || (rest.StartsWith('v') && rest[1..].All(char.IsAsciiDigit) && rest.Length > 1);
        return digits.Length > 0 && known && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    private Task IptablesAsync(string host, IReadOnlyList<string> rule) =>
        RequireAsync(["ip", "netns", "exec", this[host].Namespace, "iptables", "-w", .. rule]);

    private async Task RequireAsync(IReadOnlyList<string> command)
    {
        var result = await RunAsync(command);
        if (!result.Succeeded)
        {
            throw new CommandException($"'{string.Join(' ', command)}' failed: {result.Output.Trim()}");
        }
    }

    private static Task<ProcessResult> RunAsync(IReadOnlyList<string> command) =>
        ProcessRunner.RunAsync(command[0], command.Skip(1), CommandTimeout);

    private static bool ExistsOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
