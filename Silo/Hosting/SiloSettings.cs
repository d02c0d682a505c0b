using System.Net;
using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

public enum SiloMode
{
    /// <summary>ADO.NET clustering, storage and reminders on PostgreSQL.</summary>
    Postgres,

    /// <summary>One silo, localhost clustering, in-memory storage and reminders: for quick hacking only.</summary>
    Localhost,
}

/// <summary>Which grain directory the silo runs (see docs/guarantees.md for what each did under partition).</summary>
public enum GrainDirectoryKind
{
    /// <summary>Orleans' default: an eventually consistent hash table over the silos, partitions lost with their silo.</summary>
    Default,

    /// <summary>Orleans' strongly consistent directory (<c>AddDistributedGrainDirectory</c>): ranges handed over between views of membership.</summary>
    Distributed,
}

/// <summary>The silo's identity and ports (section <c>Orleans</c>), so several silos can share a host.</summary>
public sealed class SiloSettings
{
    public const string SectionName = "Orleans";

    public SiloMode Mode { get; set; } = SiloMode.Postgres;

    public string ClusterId { get; set; } = "reliability";

    public string ServiceId { get; set; } = "reliability";

    /// <summary>Defaults to <c>silo-{SiloPort}</c>, which is unique per host.</summary>
    public string? SiloName { get; set; }

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address other silos and clients use to reach this one: an IP, a host name to resolve, or
    /// <c>auto</c> for this host's first non-loopback IPv4 address (what a container needs).
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>The grain directory, <c>Default</c> or <c>Distributed</c>; every silo of a cluster must run the same one.</summary>
    public GrainDirectoryKind GrainDirectory { get; set; } = GrainDirectoryKind.Default;

    public string EffectiveSiloName => string.IsNullOrWhiteSpace(SiloName) ? $"silo-{SiloPort}" : SiloName;

    public IPAddress ParsedAdvertisedAddress => _advertised ??= ResolveAdvertisedAddress();

    private IPAddress? _advertised;

    public void Validate()
    {
        StartupException.Require(!string.IsNullOrWhiteSpace(ClusterId), "Orleans:ClusterId must not be empty.");
        StartupException.Require(!string.IsNullOrWhiteSpace(ServiceId), "Orleans:ServiceId must not be empty.");
        StartupException.Require(IsPort(SiloPort), $"Orleans:SiloPort must be a port number (1-65535), not {SiloPort}.");
        StartupException.Require(IsPort(GatewayPort), $"Orleans:GatewayPort must be a port number (1-65535), not {GatewayPort}.");
        StartupException.Require(SiloPort != GatewayPort, "Orleans:SiloPort and Orleans:GatewayPort must differ.");
        StartupException.Require(!string.IsNullOrWhiteSpace(AdvertisedAddress), "Orleans:AdvertisedAddress must not be empty.");
        _ = ParsedAdvertisedAddress;
    }

    private IPAddress ResolveAdvertisedAddress()
    {
        if (IPAddress.TryParse(AdvertisedAddress, out var literal))
        {
            return literal;
        }

        try
        {
            var host = string.Equals(AdvertisedAddress, "auto", StringComparison.OrdinalIgnoreCase) ? Dns.GetHostName() : AdvertisedAddress;
            return Dns.GetHostAddresses(host)
                .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                .OrderBy(a => IPAddress.IsLoopback(a))
                .First();
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or InvalidOperationException or ArgumentException)
        {
            throw new StartupException($"Orleans:AdvertisedAddress '{AdvertisedAddress}' is neither an IP address nor a name this host can resolve to IPv4.");
        }
    }

    internal static bool IsPort(int port) => port is > 0 and <= 65535;
}
