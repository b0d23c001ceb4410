using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MemSvc.Server.Security;

/// <summary>
/// The mTLS listener: HTTP/2 over TLS on every address, a client certificate required and accepted as
/// <see cref="ClientCertificatePolicy"/> says. A refusal ends the handshake and is logged, at most once per 10 s
/// (a client can cause them at will), with its reason.
/// </summary>
internal static class MutualTls
{
    /// <summary>Listens on the mTLS port; certificates come from <paramref name="certificates"/> at each handshake, so rotations apply.</summary>
    /// <param name="admit">Connection admission, run before the TLS handshake so that handshakes count too.</param>
    public static void Listen(KestrelServerOptions kestrel, TlsOptions options, TlsCertificates certificates, Action<ListenOptions> admit, ILogger logger)
    {
        var refusals = new LogThrottle(TimeSpan.FromSeconds(10));
        kestrel.ListenAnyIP(options.Port!.Value, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            admit(listen);
            listen.UseHttps(https =>
            {
                https.ServerCertificateSelector = (_, _) => certificates.ServerCertificate;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, _) => Accepts(certificate, certificates, refusals, logger);
            });
        });
    }

    private static bool Accepts(X509Certificate2 certificate, TlsCertificates certificates, LogThrottle refusals, ILogger logger)
    {
        var refusal = ClientCertificatePolicy.Refusal(certificate, certificates.ClientCas);
        if (refusal is not null && refusals.TryAcquire(out var suppressed))
        {
            ServerLog.ClientCertificateRefused(logger, certificate.Subject, refusal, suppressed);
        }

        return refusal is null;
    }
}
