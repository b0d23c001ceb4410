using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MemSvc.Server.Security;

/// <summary>
/// Which certificates the mTLS listener accepts as callers: an end-entity certificate that names client
/// authentication as its purpose and chains to the configured client CA alone. The purpose matters because fleets
/// often issue server and client certificates from one CA: without it any host's server certificate (or an
/// intermediate CA's) would become a caller named after its CN (probe D8). The system's roots are not trusted for
/// callers: any public certificate would otherwise become an identity.
/// </summary>
internal static class ClientCertificatePolicy
{
    /// <summary>id-kp-clientAuth (RFC 5280 4.2.1.12).</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>Why <paramref name="certificate"/> is not accepted as a caller, or null when it is.</summary>
    public static string? Refusal(X509Certificate2 certificate, X509Certificate2Collection clientCas)
    {
        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(c => c.CertificateAuthority))
        {
            return "it is a CA certificate";
        }

        // Stricter than RFC 5280, where a certificate without the extension may serve any purpose: server
        // certificates are commonly issued without it, and they must not pass as callers.
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
        if (usages is null || !usages.EnhancedKeyUsages.Cast<Oid>().Any(u => u.Value == ClientAuthentication.Value))
        {
            return "it does not have the clientAuth extended key usage";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(clientCas);
        // Intermediates that restrict their purposes must allow client authentication too.
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        // Client CAs of orchestrator fleets rarely publish CRLs; expiry and signature are what is checked.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(certificate))
        {
            return null;
        }

        var status = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct();
        return "it does not chain to MemSvc:Tls:ClientCaPath (" + string.Join(", ", status) + ")";
    }
}
