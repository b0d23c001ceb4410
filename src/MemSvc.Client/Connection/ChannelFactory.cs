using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace MemSvc.Client.Connection;

/// <summary>Builds the gRPC channel: a Unix domain socket (the daemon's interface) or an http(s) address.</summary>
internal static class ChannelFactory
{
    // The authority of a socket channel: HTTP/2 needs one, and nothing routes on it.
    private static readonly Uri SocketAuthority = new("http://localhost");

    public static GrpcChannel Create(MemSvcClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // Watches live for hours: keep idle connections checked, and allow more streams than one connection holds.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };

        Uri address;
        if (options.Address is { } configured)
        {
            address = configured;
            if (configured.Scheme == Uri.UriSchemeHttps)
            {
                handler.SslOptions = TlsOptions(options);
            }
        }
        else
        {
            var path = options.SocketPath ?? DefaultEndpoint.SocketPath;
            var serverUid = options.SocketServerUid;
            handler.ConnectCallback = (_, cancellationToken) => ConnectUnixAsync(path, serverUid, cancellationToken);
            address = SocketAuthority;
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // Retries belong to the SDK's Polly pipelines, which know which calls are idempotent.
            MaxRetryAttempts = 0,
            MaxReceiveMessageSize = 8 * 1024 * 1024,
            MaxSendMessageSize = 8 * 1024 * 1024,
        });
    }

    private static async ValueTask<Stream> ConnectUnixAsync(string path, uint? serverUid, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            // Checked on the connected socket, not on the path beforehand: the path could be swapped in between.
            if (serverUid is { } expected && PeerCredentials.PeerUid(socket) is var actual && actual != expected)
            {
                throw new IOException(
                    $"{path} is served by uid {actual}, not by uid {expected} as expected: refusing to send anything there (another local user may have put a listener in that directory)");
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static SslClientAuthenticationOptions TlsOptions(MemSvcClientOptions options)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.ClientCertificatePath is { } certificatePath)
        {
            var certificate = X509Certificate2.CreateFromPemFile(certificatePath, options.ClientKeyPath);
            ssl.ClientCertificates = [certificate];
        }

        if (options.CaCertificatePath is { } caPath)
        {
            var authority = X509CertificateLoader.LoadCertificateFromFile(caPath);
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                ValidateAgainst(authority, certificate, errors);
        }

        return ssl;
    }

    private static bool ValidateAgainst(X509Certificate2 authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }
}
