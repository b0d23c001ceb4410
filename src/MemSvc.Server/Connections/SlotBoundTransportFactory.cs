using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Connections;

/// <summary>
/// Kestrel's socket transport with accept bounded by <see cref="AcceptSlots"/>. Registered after the default
/// transport, so that Kestrel, which tries the last registered factory first, binds every listener through it.
/// </summary>
internal sealed class SlotBoundTransportFactory(IOptions<SocketTransportOptions> options, ILoggerFactory loggers, AcceptSlots slots)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SocketTransportFactory _sockets = new(options, loggers);

    public bool CanBind(EndPoint endpoint) => _sockets.CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = await _sockets.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        slots.AddListener();
        return new SlotBoundListener(listener, slots);
    }
}
