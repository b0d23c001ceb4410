namespace MemSvc.Server.Connections;

/// <summary>
/// Counts open connections server-wide, per listener and per peer, against <see cref="ConnectionLimits"/>, and the
/// refused connections still being answered. Free of Kestrel so that its counting is tested alone.
/// </summary>
internal sealed class ConnectionBudget(ConnectionLimits limits)
{
    // One lock for three counters: held for a few dictionary operations per connection, far less than a handshake.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _perListener = new(StringComparer.Ordinal);

    // Only peers with a connection open: entries go when their count reaches 0, so a scan of addresses cannot grow it.
    private readonly Dictionary<string, int> _perPeer = new(StringComparer.Ordinal);
    private int _total;
    private int _refusing;

    public ConnectionLimits Limits => limits;

    /// <summary>Connections held now over every listener.</summary>
    public int Open
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>Admits a connection, or says which limit it would pass (and admits nothing).</summary>
    /// <param name="listener">The listener's name ("socket", "loopback", "tls", "health", "metrics").</param>
    /// <param name="probeListener">Whether the listener is the health or Prometheus port, held to the smaller cap.</param>
    public ConnectionRefusal? TryAdmit(string listener, bool probeListener, string peer)
    {
        lock (_lock)
        {
            var onListener = _perListener.GetValueOrDefault(listener);
            var ofPeer = _perPeer.GetValueOrDefault(peer);
            var listenerLimit = probeListener ? limits.PerProbeListener : limits.PerListener;
            if (_total >= limits.Total)
            {
                return new ConnectionRefusal(ConnectionRefusal.ServerScope, limits.Total, listener, peer);
            }

            if (onListener >= listenerLimit)
            {
                return new ConnectionRefusal(ConnectionRefusal.ListenerScope, listenerLimit, listener, peer);
            }

            if (ofPeer >= limits.PerPeer)
            {
                return new ConnectionRefusal(ConnectionRefusal.PeerScope, limits.PerPeer, listener, peer);
            }

            _total++;
            _perListener[listener] = onListener + 1;
            _perPeer[peer] = ofPeer + 1;
            return null;
        }
    }

    /// <summary>Gives back what <see cref="TryAdmit"/> took, once the connection has closed.</summary>
    public void Release(string listener, string peer)
    {
        lock (_lock)
        {
            _total--;
            Decrement(_perListener, listener);
            Decrement(_perPeer, peer);
        }
    }

    /// <summary>Takes a refusal slot, so that a refused connection may stay to hear why; false when all are taken.</summary>
    public bool TryStartRefusal()
    {
        lock (_lock)
        {
            if (_refusing >= limits.RefusalSlots)
            {
                return false;
            }

            _refusing++;
            return true;
        }
    }

    public void EndRefusal()
    {
        lock (_lock)
        {
            _refusing--;
        }
    }

    private static void Decrement(Dictionary<string, int> counts, string key)
    {
        // A release without its admission would let later connections past the limit: a bug, never absorbed.
        var count = counts.TryGetValue(key, out var n) ? n : throw new InvalidOperationException($"no connection of '{key}' to release");
        if (count == 1)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = count - 1;
        }
    }
}

/// <summary>Why a connection was refused: the <paramref name="Scope"/> (server, listener, peer) whose <paramref name="Limit"/> it would pass.</summary>
internal sealed record ConnectionRefusal(string Scope, int Limit, string Listener, string Peer)
{
    public const string ServerScope = "server";
    public const string ListenerScope = "listener";
    public const string PeerScope = "peer";
}
