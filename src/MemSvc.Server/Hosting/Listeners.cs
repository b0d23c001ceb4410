using System.Net;
using MemSvc.Server.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Kestrel's listeners: the Unix domain socket (the daemon's real interface) and, when configured, plaintext
/// HTTP/2 on 127.0.0.1 for development, when configured, mTLS on every address, when configured, a
/// health-only plaintext port, and, when configured, the Prometheus scrape port. HTTP/2 only, except the scrape
/// port: gRPC needs nothing else, and h2c without TLS cannot negotiate HTTP/1.1 anyway; Prometheus scrapes over
/// HTTP/1.1.
/// </summary>
internal sealed class Listeners(ILogger<Listeners> logger)
{
    /// <summary>Where the socket went, once Kestrel is configured; null when no socket is configured.</summary>
    public SocketLocation? Socket { get; private set; }

    public void Configure(KestrelServerOptions kestrel, MemSvcOptions options, TlsOptions tls)
    {
        if (tls.Port is not null)
        {
            MutualTls.Listen(kestrel, tls, new TlsCertificates(tls, logger));
        }

        if (!string.IsNullOrEmpty(options.SocketPath))
        {
            Socket = SocketLocation.Choose(options.SocketPath);
            kestrel.ListenUnixSocket(Socket.Path, listen => listen.Protocols = HttpProtocols.Http2);
        }

        if (options.LoopbackPort is { } port)
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
        }

        if (options.HealthPort is { } health)
        {
            // Plaintext on every address, but HealthOnlyPort lets nothing through except grpc.health.v1.
            kestrel.ListenAnyIP(health, listen => listen.Protocols = HttpProtocols.Http2);
        }

        if (options.Telemetry.PrometheusPort is { } scrape)
        {
            // Plaintext on every address, but PrometheusScrapePort serves the scrape path there and nothing else.
            kestrel.ListenAnyIP(scrape, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }
}
