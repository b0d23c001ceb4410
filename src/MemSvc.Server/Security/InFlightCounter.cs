namespace MemSvc.Server.Security;

/// <summary>
/// How many calls each owner has executing, each owner held to the same <see cref="Limit"/>. Free of gRPC so
/// that its counting is tested alone; <see cref="InFlightLimit"/> decides which calls it counts.
/// </summary>
internal sealed class InFlightCounter
{
    // One lock held for a dictionary update: shorter than any call it guards, and, unlike a lock-free
    // update-or-remove loop, plainly correct when an owner's last call leaves while its next one enters.
    private readonly Lock _lock = new();

    // Only owners with a call running: with mTLS every certificate the CA signs is a principal, so an entry per
    // owner ever seen would grow without bound.
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);

    public InFlightCounter(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
    }

    /// <summary>The most calls one owner may have executing at once.</summary>
    public int Limit { get; }

    /// <summary>Takes a slot for <paramref name="owner"/>; false, taking nothing, when it already has <see cref="Limit"/>.</summary>
    public bool TryEnter(string owner)
    {
        lock (_lock)
        {
            var running = _running.GetValueOrDefault(owner);
            if (running >= Limit)
            {
                return false;
            }

            _running[owner] = running + 1;
            return true;
        }
    }

    /// <summary>Gives back a slot that <see cref="TryEnter"/> took.</summary>
    public void Exit(string owner)
    {
        lock (_lock)
        {
            // An exit without its enter would let the owner past its limit later: a bug, never silently absorbed.
            var running = _running.TryGetValue(owner, out var n) ? n : throw new InvalidOperationException($"owner '{owner}' has no call in flight to exit");
            if (running == 1)
            {
                _running.Remove(owner);
            }
            else
            {
                _running[owner] = running - 1;
            }
        }
    }

    /// <summary>The calls <paramref name="owner"/> has executing now.</summary>
    public int CountOf(string owner)
    {
        lock (_lock)
        {
            return _running.GetValueOrDefault(owner);
        }
    }

    /// <summary>Owners with at least one call executing now.</summary>
    public int OwnersInFlight
    {
        get
        {
            lock (_lock)
            {
                return _running.Count;
            }
        }
    }
}
