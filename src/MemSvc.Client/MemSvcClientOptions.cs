using Grpc.Core.Interceptors;
using MemSvc.Client.Connection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Client;

/// <summary>
/// How a <see cref="MemSvcClient"/> reaches MemSvc and how hard it tries. Binds from configuration
/// (<c>services.AddMemSvcClient(configuration.GetSection("MemSvc:Client"))</c>): every setting but
/// <see cref="Interceptors"/> and <see cref="LoggerFactory"/> is a plain value there, durations as "00:00:30".
/// </summary>
public sealed class MemSvcClientOptions
{
    /// <summary>The Unix domain socket to connect to. Used when <see cref="Address"/> is null.</summary>
    public string? SocketPath { get; set; }

    /// <summary>
    /// When set, a connection over <see cref="SocketPath"/> is used only if the process listening on it runs as
    /// this uid (the socket's peer credentials); otherwise the call fails UNAVAILABLE naming both uids.
    /// <see cref="DefaultEndpoint.RequiredServerUid"/> gives it for the fallback sockets a non-root server uses,
    /// whose directories another local user could have made first to put their own listener there.
    /// </summary>
    public uint? SocketServerUid { get; set; }

    /// <summary>An http:// (loopback h2c) or https:// address; takes precedence over <see cref="SocketPath"/>.</summary>
    public Uri? Address { get; set; }

    /// <summary>PEM certificate presented to an https server that asks for one (mTLS identifies the caller).</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertificatePath"/>; null when the certificate file holds it.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>PEM CA certificate that signs the server's certificate, for servers outside the system trust store.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>Deadline of each unary call attempt (each retry gets a fresh one).</summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after the first attempt of a call that may be retried (reads and idempotent mutations).</summary>
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest delay between two retries, and between two reconnects of a watch.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First delay before a watch reconnects after losing its stream; grows while reconnects keep failing.</summary>
    public TimeSpan WatchReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How long a watched VM's position may move unreported (past events the watch's filter skips) before the
    /// server sends a bookmark; the watch resumes from bookmarks too, so a filtered watch's resume point keeps up
    /// with the journal's compaction. From 10 ms to 1 h.
    /// </summary>
    public TimeSpan WatchBookmarkInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Failed reconnects in a row (no event received in between) after which a watch gives up with the last
    /// error; null: it keeps trying until cancelled.
    /// </summary>
    public int? WatchMaxConsecutiveFailures { get; set; }

    /// <summary>Client interceptors, outermost first (logging, metrics, fault injection in tests).</summary>
    public IList<Interceptor> Interceptors { get; } = [];

    /// <summary>
    /// Where the client logs retries, watch reconnects and fault-handler failures (categories under
    /// "MemSvc.Client"). Nothing is logged by default; <c>AddMemSvcClient</c> sets the host's factory when this is
    /// left alone.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;
}
