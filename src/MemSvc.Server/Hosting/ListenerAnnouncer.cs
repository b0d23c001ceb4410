using MemSvc.Server.Connections;
using MemSvc.Server.Handoff;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Once Kestrel listens: gives the socket its 0660 mode (Kestrel creates it with the process umask) and its
/// configured group, and says where the server can be reached, including which fallback socket it took, and how
/// many connections it holds.
/// </summary>
internal sealed class ListenerAnnouncer(Listeners listeners, ServerInstance instance, ConnectionBudget connections, Takeover takeover, IOptions<MemSvcOptions> options, ILogger<ListenerAnnouncer> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (takeover.Happened)
        {
            ServerLog.InstanceTookOver(logger, instance.Id, instance.StartedAt.UtcDateTime);
        }
        else
        {
            ServerLog.InstanceStarted(logger, instance.Id, instance.StartedAt.UtcDateTime);
        }

        var limits = connections.Limits;
        ServerLog.ConnectionLimits(logger, limits.Total, limits.PerListener, limits.PerProbeListener, limits.PerPeer, limits.RefusalSlots, limits.OpenFiles, limits.Reserved);
        if (listeners.Socket is { } socket)
        {
            File.SetUnixFileMode(socket.Path, SocketLocation.SocketMode);
            if (options.Value.SocketGroup is { } group)
            {
                SocketGroup.Apply(socket.Path, group);
                ServerLog.SocketGroupSet(logger, socket.Path, group);
            }

            // After a takeover the socket left behind is the handed-off server's, whose VMs live on here.
            if (socket.RemovedStale && !takeover.Happened)
            {
                ServerLog.StaleSocketRemoved(logger, socket.Path);
            }

            if (socket.FallbackFrom is not null)
            {
                ServerLog.SocketFallback(logger, socket.FallbackFrom, socket.Path);
            }

            ServerLog.ListeningOnSocket(logger, socket.Path);
        }

        foreach (var (address, description) in listeners.TcpListeners)
        {
            ServerLog.ListeningOnPort(logger, address, description);
        }

        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
