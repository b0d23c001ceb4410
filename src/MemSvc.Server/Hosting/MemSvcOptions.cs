using MemSvc.Core.Options;
using MemSvc.Server.Connections;
using MemSvc.Server.Execution;
using MemSvc.Server.Security;
using MemSvc.Server.Telemetry;

namespace MemSvc.Server.Hosting;

/// <summary>The "MemSvc" configuration section. Checked at start-up by <see cref="MemSvcOptionsValidator"/>.</summary>
public sealed class MemSvcOptions
{
    public const string Section = "MemSvc";

    /// <summary>Where the Unix domain socket is created unless configured: the host-local daemon's usual place.</summary>
    public const string DefaultSocketPath = "/run/memsvc/memsvc.sock";

    /// <summary>
    /// The Unix domain socket to listen on (mode 0660, parent directory created). Empty: no socket. When this is
    /// the default and /run/memsvc cannot be written (not root), a socket under $XDG_RUNTIME_DIR or /tmp is used.
    /// </summary>
    public string SocketPath { get; set; } = DefaultSocketPath;

    /// <summary>
    /// The group the socket (and a socket directory this server owns) is given, by name or gid, as containerd's
    /// [grpc] gid: its members may connect, nobody else. Null: the server's own group. The server's user must be a
    /// member (or root) for the change to be allowed; start-up fails otherwise.
    /// </summary>
    public string? SocketGroup { get; set; }

    /// <summary>
    /// A plaintext HTTP/2 port on 127.0.0.1 for development; null (the default outside Development): none; 0: an
    /// ephemeral port. Opt-in because every local user reaches it and is the one caller "local"; never another
    /// address: TCP beyond loopback is MemSvc:Tls (mTLS only).
    /// </summary>
    public int? LoopbackPort { get; set; }

    /// <summary>
    /// A plaintext HTTP/2 port on every address that serves grpc.health.v1 and nothing else; null: none. For probes
    /// that cannot present a client certificate (kubelet's gRPC probes); every other RPC there is refused (404,
    /// which gRPC clients see as UNIMPLEMENTED).
    /// </summary>
    public int? HealthPort { get; set; }

    /// <summary>
    /// Whether to open /dev/kvm at start-up, so that VMs may ask for the kvm backend. False keeps the server on the
    /// simulated backend alone, even on a host with /dev/kvm (orchestrator CI that must not touch the host's KVM).
    /// </summary>
    public bool OpenKvm { get; set; } = true;

    /// <summary>"auto" (kvm when /dev/kvm opens, else simulated), "kvm" or "simulated".</summary>
    public string DefaultBackend { get; set; } = "auto";

    /// <summary>The simulated backend's settings: MemSvc:Simulated:HostProfile, the host it models.</summary>
    public SimulatedBackendOptions Simulated { get; set; } = new();

    /// <summary>Events each VM's journal keeps (count); a watch starting before them fails SEQUENCE_COMPACTED.</summary>
    public int JournalRetention { get; set; } = 65_536;

    /// <summary>
    /// Journal files (MemSvc:Journal:Directory, MaxFileBytes, LostRetention): with a directory, each VM's journal is
    /// also appended to a file there, so that after the daemon dies the next one reports the VM lost with a final
    /// VM_LOST event instead of forgetting it. Off without a directory (the default of the binary, so that test and
    /// development servers share nothing); the image, the compose file, the DaemonSet and the systemd unit set one.
    /// </summary>
    public JournalOptions Journal { get; set; } = new();

    /// <summary>How long a fault waits for ResolveFault when CreateVm does not say.</summary>
    public TimeSpan ResolutionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Per-owner and per-VM limits (MemSvc:Quotas:MaxVmsPerOwner, MaxVcpusPerVm, MaxGuestMemoryBytesPerOwner,
    /// MaxGuestMemfdsPerOwner, MaxMemslotsPerVm, MaxJournalEventsPerOwner, MaxWatchersPerOwner,
    /// MaxInFlightRequestsPerOwner). Exceeding one fails RESOURCE_EXHAUSTED
    /// QUOTA_EXCEEDED, its ErrorInfo naming the quota.
    /// </summary>
    public QuotaOptions Quotas { get; set; } = new();

    /// <summary>
    /// The host-wide guest memory cap (MemSvc:HostMemory:OvercommitRatio, ReservedBytes): ratio × the cgroup's
    /// memory.max, or MemTotal without one, minus the reserve. Past it creations fail RESOURCE_EXHAUSTED
    /// HOST_MEMORY_EXHAUSTED, whatever the owner's quota.
    /// </summary>
    public HostMemoryOptions HostMemory { get; set; } = new();

    /// <summary>Per-owner rate of state-changing calls (MemSvc:RateLimit:MutationsPerMinute, MutationBurst).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Largest request message, in bytes (gRPC's MaxReceiveMessageSize): one WriteGuestMemory of Core's 4 MiB
    /// transfer limit plus its envelope. Bigger messages fail RESOURCE_EXHAUSTED before any parsing.
    /// </summary>
    public int MaxReceiveMessageBytes { get; set; } = (4 << 20) + (64 << 10);

    /// <summary>
    /// Connection limits (MemSvc:Connections:MaxTotal, MaxPerListener, MaxPerPeer, ReservedFds, RefusalSlots,
    /// RefusalGrace) and HTTP/2 keepalive, idle and header timeouts; see <see cref="ConnectionOptions"/>.
    /// </summary>
    public ConnectionOptions Connections { get; set; } = new();

    /// <summary>
    /// The dedicated threads that run Core's blocking operations, with fairness across owners
    /// (MemSvc:Workers:Count, PerOwner); see <see cref="WorkerOptions"/>.
    /// </summary>
    public WorkerOptions Workers { get; set; } = new();

    /// <summary>The planned handoff to a new process (MemSvc:Handoff:TakeOver, Timeout); see <see cref="Handoff.HandoffOptions"/>.</summary>
    public Handoff.HandoffOptions Handoff { get; set; } = new();

    /// <summary>What the server exposes besides OTLP: MemSvc:Telemetry:PrometheusPort (off by default).</summary>
    public TelemetryOptions Telemetry { get; set; } = new();
}
