using System.Net;
using Microsoft.AspNetCore.Connections;

namespace MemSvc.Server.Connections;

/// <summary>A listener that accepts only with a free <see cref="AcceptSlots"/> slot, which its connection gives back when disposed.</summary>
internal sealed class SlotBoundListener(IConnectionListener inner, AcceptSlots slots) : IConnectionListener
{
    // Kestrel's accept loop passes no token; unbinding is how it stops, so unbinding must also end a wait for a slot.
    private readonly CancellationTokenSource _unbound = new();

    // Named once for the pause log, not at each accept.
    private readonly string _name = inner.EndPoint.ToString() ?? "listener";

    public EndPoint EndPoint => inner.EndPoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_unbound.Token, cancellationToken);
        if (!await slots.TakeAsync(_name, stop.Token).ConfigureAwait(false))
        {
            return null;
        }

        ConnectionContext? connection = null;
        try
        {
            connection = await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (connection is null)
            {
                slots.Give();
            }
        }

        return connection is null ? null : new SlotHoldingConnection(connection, slots);
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        await _unbound.CancelAsync().ConfigureAwait(false);
        await inner.UnbindAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _unbound.CancelAsync().ConfigureAwait(false);
        await inner.DisposeAsync().ConfigureAwait(false);
        _unbound.Dispose();
    }
}
