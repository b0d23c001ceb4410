using System.Net;
using System.Net.Sockets;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>Loopback ports for listeners whose settings refuse 0 (health, Prometheus).</summary>
internal static class FreePorts
{
    /// <summary>A loopback port free right now.</summary>
    public static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
