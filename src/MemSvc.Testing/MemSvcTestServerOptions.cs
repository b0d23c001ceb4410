using Microsoft.Extensions.Logging;

namespace MemSvc.Testing;

/// <summary>How <see cref="MemSvcTestServer.StartAsync"/> sets up the server.</summary>
public sealed class MemSvcTestServerOptions
{
    /// <summary>The simulated host, one of <see cref="HostProfiles"/>; start-up fails naming the valid ones otherwise.</summary>
    public string HostProfile { get; set; } = HostProfiles.Default;

    /// <summary>How long a fault waits for ResolveFault when CreateVm does not say; null: the server's default (30 s).</summary>
    public TimeSpan? ResolutionTimeout { get; set; }

    /// <summary>Events each VM's journal keeps; null: the server's default (65 536).</summary>
    public int? JournalRetention { get; set; }

    /// <summary>
    /// Any other server setting, by its configuration key ("MemSvc:Quotas:MaxVmsPerOwner" = "4"). Applied last,
    /// so it also overrides the settings above.
    /// </summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The folder the server's socket is created in; null: a fresh directory under the system's temp folder, deleted
    /// when the server is disposed. Keep it short: a Unix socket path has at most 107 bytes.
    /// </summary>
    public string? SocketDirectory { get; set; }

    /// <summary>Where the server logs (warnings and above unless the builder says otherwise); null: nowhere.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }
}
