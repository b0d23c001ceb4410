namespace MemSvc.Server.Hosting;

/// <summary>
/// This server process: an id drawn at start and the start time, on GetHostInfo and in the first log line, so that
/// a client (and an operator reading logs) can tell a restart, after which every VM of the previous process is gone,
/// from a VM's deletion (probe D15).
/// </summary>
internal sealed class ServerInstance
{
    public string Id { get; } = Guid.NewGuid().ToString("N");

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
}
