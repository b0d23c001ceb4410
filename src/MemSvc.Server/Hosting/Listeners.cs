using System.Net;
using MemSvc.Server.Connections;
using MemSvc.Server.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Kestrel's listeners: the Unix domain socket (the daemon's real interface) and, when configured, plaintext
/// HTTP/2 on 127.0.0.1 for development, when configured, mTLS on every address, when configured, a
/// health-only plaintext port, and, when configured, the Prometheus scrape port. HTTP/2 only, except the scrape
/// port: gRPC needs nothing else, and h2c without TLS cannot negotiate HTTP/1.1 anyway; Prometheus scrapes over
/// HTTP/1.1.
/// <para>
/// Every listener admits connections through <see cref="ConnectionAdmission"/> before anything else (TLS
/// included), and Kestrel's own limits bound what a connection may hold: its streams, how long it may stay
/// silent (keepalive PINGs find a frozen or partitioned client) and how slowly it may send headers.
/// </para>
/// </summary>
internal sealed class Listeners(ILogger<Listeners> logger)
{
    private readonly List<(ListenOptions Listen, string Scheme, string Description)> _tcp = [];

    /// <summary>Where the socket went, once Kestrel is configured; null when no socket is configured.</summary>
    public SocketLocation? Socket { get; private set; }

    /// <summary>
    /// Each TCP listener, once Kestrel has bound it (its endpoint then carries the port a 0 was given), and what it
    /// serves, so that the start-up log says what each port is rather than one wording for all (probe D14).
    /// </summary>
    public IEnumerable<(string Address, string Description)> TcpListeners =>
        _tcp.Select(l => ($"{l.Scheme}://{l.Listen.IPEndPoint}", l.Description));

    public void Configure(KestrelServerOptions kestrel, MemSvcOptions options, TlsOptions tls, ConnectionAdmission admission, ConnectionLimits limits)
    {
        SetLimits(kestrel, options.Connections, limits);
        if (tls.Port is not null)
        {
            MutualTls.Listen(kestrel, tls, new TlsCertificates(tls, logger), listen =>
            {
                admission.Apply(listen, "tls");
                _tcp.Add((listen, "https", "HTTP/2 over TLS, every address, a client certificate from MemSvc:Tls:ClientCaPath required"));
            }, logger);
        }

        if (!string.IsNullOrEmpty(options.SocketPath))
        {
            Socket = SocketLocation.Choose(options.SocketPath, options.Handoff.TakeOver);
            kestrel.ListenUnixSocket(Socket.Path, listen => Http2(listen, admission, "socket"));
        }

        if (options.LoopbackPort is { } port)
        {
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                Http2(listen, admission, "loopback");
                _tcp.Add((listen, "http", "plaintext HTTP/2, loopback only, for development; every caller is the owner 'local'"));
            });
        }

        if (options.HealthPort is { } health)
        {
            // Plaintext on every address, but HealthOnlyPort lets nothing through except grpc.health.v1.
            kestrel.ListenAnyIP(health, listen =>
            {
                Http2(listen, admission, "health", probeListener: true);
                _tcp.Add((listen, "http", "plaintext HTTP/2, every address, grpc.health.v1 only"));
            });
        }

        if (options.Telemetry.PrometheusPort is { } scrape)
        {
            // Plaintext on every address, but PrometheusScrapePort serves the scrape path there and nothing else.
            kestrel.ListenAnyIP(scrape, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                admission.Apply(listen, "metrics", probeListener: true);
                _tcp.Add((listen, "http", "plaintext HTTP/1.1, every address, the Prometheus scrape path only"));
            });
        }
    }

    private static void Http2(ListenOptions listen, ConnectionAdmission admission, string name, bool probeListener = false)
    {
        listen.Protocols = HttpProtocols.Http2;
        admission.Apply(listen, name, probeListener);
    }

    private static void SetLimits(KestrelServerOptions kestrel, ConnectionOptions options, ConnectionLimits limits)
    {
        // Kestrel counts per listener and closes past its limit with no answer: a backstop above MemSvc's own budget
        // (which answers), so that even a bug in the budget cannot let connections reach the reserved descriptors.
        kestrel.Limits.MaxConcurrentConnections = (long)limits.Total + limits.RefusalSlots;
        kestrel.Limits.KeepAliveTimeout = options.IdleTimeout;
        kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        kestrel.Limits.Http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
        kestrel.Limits.Http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
    }
}
