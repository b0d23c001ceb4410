using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using MemSvc.Core.Identity;
using Microsoft.AspNetCore.Connections.Features;

namespace MemSvc.Server.Identity;

/// <summary>
/// The principal is taken from the connection, never from anything the request says: "cert:{CN}" for an mTLS
/// client certificate (Kestrel has already validated it against the configured CA), "uid:{n}" for a Unix socket
/// peer (SO_PEERCRED, which the kernel fills and the peer cannot forge), "local" for development loopback TCP,
/// which carries no identity. <see cref="CallerMapper"/> then gives it its owner and role.
/// </summary>
internal sealed class ConnectionCallerResolver(CallerMapper mapper) : ICallerResolver
{
    public const string LoopbackIdentity = "local";

    public CallerIdentity Resolve(ServerCallContext context) => mapper.Map(Principal(context));

    private static string Principal(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        if (http.Connection.ClientCertificate is { } certificate)
        {
            return CertificatePrincipal(certificate);
        }

        return PeerCredentials.Uid(http.Features.Get<IConnectionSocketFeature>()?.Socket) is { } uid
            ? "uid:" + uid.ToString(CultureInfo.InvariantCulture)
            : LoopbackIdentity;
    }

    /// <summary>"cert:{CN}"; a certificate without a CN is named by its whole subject, so that it is still distinct.</summary>
    public static string CertificatePrincipal(X509Certificate2 certificate)
    {
        var commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return "cert:" + (string.IsNullOrEmpty(commonName) ? certificate.Subject : commonName);
    }
}
