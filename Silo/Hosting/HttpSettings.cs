using System.Net;
using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

/// <summary>Where the silo's HTTP API, health endpoints and dashboard listen (section <c>Http</c>).</summary>
public sealed class HttpSettings
{
    public const string SectionName = "Http";

    public int Port { get; set; } = 8080;

    /// <summary>Loopback by default; set 0.0.0.0 to expose the API (see docs/operations.md).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    public IPAddress ParsedBindAddress => IPAddress.Parse(BindAddress);

    public void Validate()
    {
        StartupException.Require(SiloSettings.IsPort(Port), $"Http:Port must be a port number (1-65535), not {Port}.");
        StartupException.Require(IPAddress.TryParse(BindAddress, out _), $"Http:BindAddress must be an IP address, not '{BindAddress}'.");
    }
}
