using System.Net;
using System.Net.Sockets;

namespace Reliability.Client.Infrastructure;

public static class FreePorts
{
    /// <summary>A port that was free on loopback a moment ago (the kernel's pick).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
