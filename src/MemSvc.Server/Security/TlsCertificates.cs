using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MemSvc.Server.Security;

/// <summary>
/// The server certificate and the client CA, read from their PEM files and read again when the files change, so
/// that a rotation (cert-manager renewing a Secret, an operator replacing files) takes effect on the next handshake
/// without a restart, which would end every VM on the node. Established connections keep the certificate they
/// were made with. The files are looked at, at most once a second, when a handshake asks; a change that does not
/// load (a half-written file, a key that does not match) keeps the previous pair and is logged.
/// </summary>
internal sealed class TlsCertificates
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly TlsOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Loaded _current;
    private long _nextCheck;

    public TlsCertificates(TlsOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _current = Load(options);
        _nextCheck = Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds;
    }

    public X509Certificate2 ServerCertificate => Current().Server;

    public X509Certificate2Collection ClientCas => Current().ClientCas;

    private Loaded Current()
    {
        var now = Environment.TickCount64;
        if (now < Volatile.Read(ref _nextCheck))
        {
            return Volatile.Read(ref _current);
        }

        lock (_gate)
        {
            if (now >= _nextCheck)
            {
                _nextCheck = now + (long)CheckInterval.TotalMilliseconds;
                var stamp = Stamp(_options);
                if (stamp != _current.Stamp)
                {
                    TryReload(stamp);
                }
            }

            return _current;
        }
    }

    private void TryReload(string stamp)
    {
        try
        {
            Volatile.Write(ref _current, Load(_options));
            ServerLog.TlsReloaded(_logger, _current.Server.Subject, _current.Server.NotAfter);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Keep serving with the previous pair, and do not retry this same content until it changes again.
            _current = _current with { Stamp = stamp };
            ServerLog.TlsReloadFailed(_logger, e.Message);
        }
    }

    private static Loaded Load(TlsOptions options)
    {
        var stamp = Stamp(options);
        var server = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.KeyPath!);
        var clientCas = new X509Certificate2Collection();
        clientCas.ImportFromPemFile(options.ClientCaPath!);
        return new Loaded(server, clientCas, stamp);
    }

    // What identifies the files' content without reading it: resolved target (Kubernetes swaps a symlink), size and
    // modification time of each.
    private static string Stamp(TlsOptions options) =>
        string.Join('|', new[] { options.CertificatePath!, options.KeyPath!, options.ClientCaPath! }.Select(StampOf));

    private static string StampOf(string path)
    {
        var file = new FileInfo(path);
        var target = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
        return target.Exists ? $"{target.FullName}:{target.Length}:{target.LastWriteTimeUtc.Ticks}" : $"{path}:absent";
    }

    private sealed record Loaded(X509Certificate2 Server, X509Certificate2Collection ClientCas, string Stamp);
}
