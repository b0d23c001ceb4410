using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MemSvc.Server.Security;

/// <summary>
/// The mTLS listener: HTTP/2 over TLS on every address, a client certificate required and accepted only when it
/// chains to the configured CA alone (the system's roots are not trusted for callers: any public certificate
/// would otherwise become an identity).
/// </summary>
internal static class MutualTls
{
    /// <summary>Listens on the mTLS port; certificates come from <paramref name="certificates"/> at each handshake, so rotations apply.</summary>
    /// <param name="admit">Connection admission, run before the TLS handshake so that handshakes count too.</param>
    public static void Listen(KestrelServerOptions kestrel, TlsOptions options, TlsCertificates certificates, Action<ListenOptions> admit)
    {
        kestrel.ListenAnyIP(options.Port!.Value, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            admit(listen);
            listen.UseHttps(https =>
            {
                https.ServerCertificateSelector = (_, _) => certificates.ServerCertificate;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, _) => ChainsTo(certificate, certificates.ClientCas);
            });
        });
    }

    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        // Client CAs of orchestrator fleets rarely publish CRLs; expiry and signature are what is checked.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
