using System.Net;
using System.Net.Sockets;
using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

/// <summary>
/// Checks that run before the host starts, so that the common mistakes (a port in use, a wrong connection
/// string, a database that is down) end in one clear line instead of a failed Orleans lifecycle.
/// </summary>
public static class SiloPreflight
{
    public static async Task RunAsync(ToolkitSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        EnsurePortFree(settings.Http.ParsedBindAddress, settings.Http.Port, "Http:Port");
        if (settings.RateLimitService.Port != 0)
        {
            EnsurePortFree(settings.Http.ParsedBindAddress, settings.RateLimitService.Port, "RateLimitService:Port");
        }

        if (settings.Silo.Mode == SiloMode.Localhost)
        {
            EnsurePortFree(IPAddress.Loopback, settings.Silo.SiloPort, "Orleans:SiloPort");
            EnsurePortFree(IPAddress.Loopback, settings.Silo.GatewayPort, "Orleans:GatewayPort");
            return;
        }

        EnsurePortFree(settings.Silo.ParsedAdvertisedAddress, settings.Silo.SiloPort, "Orleans:SiloPort");
        EnsurePortFree(settings.Silo.ParsedAdvertisedAddress, settings.Silo.GatewayPort, "Orleans:GatewayPort");
        await DatabaseStartup.PrepareAsync(settings.Database, logger, cancellationToken);
    }

    private static void EnsurePortFree(IPAddress address, int port, string setting)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new StartupException($"Port {port} on {address} is already in use ({setting}): stop what holds it or choose another with --{setting}=<port>.");
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new StartupException($"Address {address} is not an address of this host ({setting}).");
        }
    }
}
