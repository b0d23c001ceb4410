namespace MemSvc.Server.Security;

/// <summary>
/// The "MemSvc:Security" section: who owns what, and who is admin.
/// <para>
/// The model. A connection authenticates a <em>principal</em>: "uid:{n}" for a Unix socket peer (SO_PEERCRED),
/// "cert:{CN}" for an mTLS client certificate, "local" for development loopback TCP. <see cref="Owners"/> maps
/// principals to an <em>owner</em> name, so that several principals (a team's orchestrators, a host user and its
/// certificate) share VMs; a principal no owner lists is its own owner. Every VM belongs to the owner that
/// created it, quotas count per owner, and a VM of another owner does not exist for the caller (NOT_FOUND, so
/// that names do not leak). A principal in <see cref="Admins"/> (or whose owner is listed there) sees and acts
/// on every VM, and ListVms / WatchEvents without a VM cover all of them.
/// </para>
/// <para>
/// Owners are keyed by owner name, with principals as values, because configuration keys cannot hold the ':'
/// that principals contain: MemSvc__Security__Owners__team-a__0=cert:orchestrator-1.
/// </para>
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = "MemSvc:Security";

    /// <summary>Owner name → the principals that act as that owner.</summary>
    public Dictionary<string, List<string>> Owners { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Principals (or owner names) holding the admin role, e.g. "uid:0".</summary>
    public List<string> Admins { get; set; } = [];
}
