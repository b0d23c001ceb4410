using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// A CA, a server certificate for 127.0.0.1 and a client certificate for mTLS, made in process and written as PEM
/// files to a host folder that the container mounts (readable by the image's user), as a Kubernetes Secret would be.
/// </summary>
internal sealed class TlsFiles : IDisposable
{
    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TlsFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("memsvc-tls-").FullName;
        File.SetUnixFileMode(Directory, (UnixFileMode)0b111_101_101);
        var request = new CertificateRequest("CN=memsvc container test CA", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
        Write("ca.crt", _ca.ExportCertificatePem());
        WriteServerCertificate("memsvc");
    }

    public string Directory { get; }

    /// <summary>Writes a new server certificate and key for <paramref name="commonName"/> over the old files, as a renewal does.</summary>
    public void WriteServerCertificate(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        Write("tls.key", key.ExportPkcs8PrivateKeyPem());
        Write("tls.crt", certificate.ExportCertificatePem());
    }

    /// <summary>A client certificate for client authentication, signed by the CA.</summary>
    public X509Certificate2 Client(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8)).CopyWithPrivateKey(key);
        // A PKCS#12 round trip gives a certificate whose key SslStream can use.
        return X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pfx), null);
    }

    public bool IsIssuedByCa(X509Certificate? certificate) => certificate is X509Certificate2 c && c.Issuer == _ca.Subject;

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void Write(string name, string pem)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, pem);
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
    }
}
