using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.Security;

/// <summary>A CA, a server certificate for 127.0.0.1 and client certificates, made in-process and written as PEM files.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly X509Certificate2 _ca;

    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("memsvc-tls-").FullName;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=memsvc test clients CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());

        WriteServerCertificate("memsvc", 1);
    }

    public string Directory { get; }

    public string CaPath => Path.Combine(Directory, "ca.crt");

    public string CertificatePath => Path.Combine(Directory, "tls.crt");

    public string KeyPath => Path.Combine(Directory, "tls.key");

    /// <summary>
    /// A client certificate signed by the CA (or, with <paramref name="selfSigned"/>, by nobody the server trusts),
    /// for client authentication unless <paramref name="shape"/> says otherwise.
    /// </summary>
    public X509Certificate2 Client(string commonName, bool selfSigned = false, CertificateShape shape = CertificateShape.ClientAuth)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        switch (shape)
        {
            case CertificateShape.ClientAuth:
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
                break;
            case CertificateShape.ServerAuthOnly:
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
                break;
            case CertificateShape.IntermediateCa:
                // An intermediate that may also authenticate clients: its CA flag alone must keep it out.
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
                break;
            case CertificateShape.NoExtendedKeyUsage:
                break;
        }

        using var issued = selfSigned
            ? request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1))
            : request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [4, (byte)commonName.Length]).CopyWithPrivateKey(key);

        // A PKCS#12 round trip gives a certificate whose key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pfx), null);
    }

    /// <summary>The server's own certificate and key, as a client would present them.</summary>
    public X509Certificate2 ServerCertificateAsClient()
    {
        using var pem = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pfx), null);
    }

    /// <summary>Replaces the server's certificate and key files with a new pair for <paramref name="commonName"/>, as a rotation does.</summary>
    public void WriteServerCertificate(string commonName, byte serial)
    {
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=" + commonName, serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        using var server = serverRequest.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [1, 2, serial]);
        File.WriteAllText(CertificatePath, server.ExportCertificatePem());
        File.WriteAllText(KeyPath, serverKey.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A server whose mTLS listener (an ephemeral port) serves these files.</summary>
    public Task<RunningServer> StartServerAsync() => RunningServer.StartAsync(
        ("MemSvc:Tls:Port", "0"),
        ("MemSvc:Tls:CertificatePath", CertificatePath),
        ("MemSvc:Tls:KeyPath", KeyPath),
        ("MemSvc:Tls:ClientCaPath", CaPath));

    /// <summary>The port <paramref name="server"/>'s mTLS listener got.</summary>
    public static int TlsPort(RunningServer server) =>
        new Uri(server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Single(a => a.StartsWith("https://", StringComparison.Ordinal))).Port;

    public bool IsCa(X509Certificate2? certificate) => certificate is not null && certificate.Issuer == _ca.Subject;

    public void Dispose()
    {
        _ca.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>What a test client certificate is issued for.</summary>
public enum CertificateShape
{
    ClientAuth,
    ServerAuthOnly,
    NoExtendedKeyUsage,
    IntermediateCa,
}
