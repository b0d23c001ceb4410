namespace MemSvc.Server.Connections;

/// <summary>
/// The "MemSvc:Connections" section: how many connections the server holds, and how long it keeps the ones that
/// stop talking. Each connection costs a file descriptor and ~22 KB; past the process's open-file limit the
/// runtime itself fails (and aborts), so the budget comes from that limit with room left for VM, vCPU and
/// guest_memfd descriptors. Unset counts are derived at start-up, as <see cref="ConnectionLimits"/> says.
/// </summary>
public sealed class ConnectionOptions
{
    /// <summary>Connections the server holds at once over every listener; null: derived from the open-file limit (at most 4096).</summary>
    public int? MaxTotal { get; set; }

    /// <summary>Connections one listener holds at once; null: three quarters of MaxTotal, so one listener's flood leaves room on the others.</summary>
    public int? MaxPerListener { get; set; }

    /// <summary>Connections one peer (a Unix socket's uid, a TCP client's address, an IPv6 client's /64) holds at once; null: MaxPerListener, at most 256.</summary>
    public int? MaxPerPeer { get; set; }

    /// <summary>File descriptors kept out of the connection budget (count); null: half the open-file limit, at least 512.</summary>
    public int? ReservedFds { get; set; }

    /// <summary>
    /// Connections past a limit that are still served one answer (RESOURCE_EXHAUSTED CONNECTION_LIMIT) before they
    /// are closed (count). Past these, a refused connection is closed at once, with no answer.
    /// </summary>
    public int RefusalSlots { get; set; } = 32;

    /// <summary>How long a refused connection may stay open to receive its answer.</summary>
    public TimeSpan RefusalGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>An HTTP/2 connection silent this long is sent a PING (Kestrel's KeepAlivePingDelay).</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A PING unanswered this long closes the connection, and with it its watches (KeepAlivePingTimeout).</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A connection with no request open is closed after this long (Kestrel's KeepAliveTimeout).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A request's headers must arrive within this long (Kestrel's RequestHeadersTimeout): slow clients lose the connection.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;
}
