namespace MemSvc.Server.Handoff;

/// <summary>
/// The "MemSvc:Handoff" section: the planned handoff of issue 16. Every server with a Unix socket listens for one on
/// a private socket beside it (<see cref="HandoffPaths"/>); a server started with <see cref="TakeOver"/> asks the
/// server on its socket path for its VMs and takes over from it.
/// </summary>
public sealed class HandoffOptions
{
    /// <summary>
    /// Start by taking over from the MemSvc serving on MemSvc:SocketPath: adopt its VMs, wait for it to exit, then
    /// listen where it listened. Start-up fails (exit 69) when there is none or it refuses, and that one serves on.
    /// </summary>
    public bool TakeOver { get; set; }

    /// <summary>How long each step may take: in-flight calls finishing, vCPUs stopping, the new process adopting.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
}
