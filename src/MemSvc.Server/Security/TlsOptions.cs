namespace MemSvc.Server.Security;

/// <summary>
/// The "MemSvc:Tls" section: the only way to listen on TCP beyond loopback, and then always with client
/// certificates (mTLS), because the certificate's subject is the caller's identity ("cert:{CN}"). Paths are PEM
/// files, as a Kubernetes TLS Secret mounts them (tls.crt, tls.key, ca.crt).
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "MemSvc:Tls";

    /// <summary>The TCP port on every address; null: no TLS listener; 0: an ephemeral port (tests).</summary>
    public int? Port { get; set; }

    /// <summary>The server's certificate (PEM), with the names orchestrators dial as SANs.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The server certificate's private key (PEM).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The CA (PEM, one or more certificates) that client certificates must chain to; no other root is trusted.</summary>
    public string? ClientCaPath { get; set; }
}
