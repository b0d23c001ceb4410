using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MemSvc.Server.Identity;
using MemSvc.Server.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MemSvc.Server.Connections;

/// <summary>
/// The first thing every listener runs on a new connection, before TLS and HTTP/2: admits it into the
/// <see cref="ConnectionBudget"/> or refuses it. A refused connection that finds a refusal slot goes on into HTTP/2
/// marked as refused, so that its first call is answered RESOURCE_EXHAUSTED CONNECTION_LIMIT
/// (<see cref="RefusedConnections"/>), and is closed after <see cref="ConnectionOptions.RefusalGrace"/> at the latest;
/// without a slot it is closed at once. Either way its descriptor is back within the grace, whatever the client does.
/// </summary>
internal sealed class ConnectionAdmission(ConnectionBudget budget, ConnectionOptions options, ILogger<ConnectionAdmission> logger)
{
    /// <summary>The connection item that marks a refused connection; its value is the <see cref="ConnectionRefusal"/>.</summary>
    public static readonly object RefusalKey = typeof(ConnectionRefusal);

    private readonly LogThrottle _throttle = new(TimeSpan.FromSeconds(10));

    /// <summary>Puts the admission in front of everything else <paramref name="listen"/> runs (call it before UseHttps).</summary>
    /// <param name="listener">The listener's name in refusals, logs and metrics.</param>
    /// <param name="probeListener">The health or Prometheus port, held to the smaller probe cap.</param>
    public void Apply(ListenOptions listen, string listener, bool probeListener = false) =>
        listen.Use(next => connection => AdmitAsync(connection, next, listener, probeListener));

    /// <summary>The key per-peer limits count by: "uid:{n}" on a Unix socket, the address over TCP, the /64 of an IPv6 address.</summary>
    public static string PeerOf(ConnectionContext connection)
    {
        if (PeerCredentials.Uid(connection.Features.Get<IConnectionSocketFeature>()?.Socket) is { } uid)
        {
            return "uid:" + uid.ToString(CultureInfo.InvariantCulture);
        }

        return connection.RemoteEndPoint switch
        {
            IPEndPoint ip => AddressKey(ip.Address),
            UnixDomainSocketEndPoint => "unix",
            _ => "unknown",
        };
    }

    private async Task AdmitAsync(ConnectionContext connection, ConnectionDelegate next, string listener, bool probeListener)
    {
        var peer = PeerOf(connection);
        var refusal = budget.TryAdmit(listener, probeListener, peer);
        if (refusal is null)
        {
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                budget.Release(listener, peer);
            }

            return;
        }

        ServerMetrics.ConnectionRefused(listener, refusal.Scope);
        if (_throttle.TryAcquire(out var suppressed))
        {
            ServerLog.ConnectionRefused(logger, listener, peer, refusal.Scope, refusal.Limit, suppressed);
        }

        if (!budget.TryStartRefusal())
        {
            // Returning closes the connection: no slot is left to answer it in.
            return;
        }

        try
        {
            connection.Items[RefusalKey] = refusal;
            using var grace = new CancellationTokenSource(options.RefusalGrace);
            using var cut = grace.Token.Register(static c => ((ConnectionContext)c!).Abort(new ConnectionAbortedException("refused connection: grace over")), connection);
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            budget.EndRefusal();
        }
    }

    // An IPv6 client usually holds a whole /64: counting each address would give it 2^64 peers' worth of connections.
    private static string AddressKey(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
