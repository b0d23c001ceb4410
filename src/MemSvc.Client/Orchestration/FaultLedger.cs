namespace MemSvc.Client.Orchestration;

/// <summary>
/// The faults one orchestrator run has handed to its handler, by VM incarnation and fault id, so that no fault
/// reaches the handler twice however often it is seen again (a relisting, a replay of a new VM from sequence 1).
/// An entry stays after its resolution ends on this side until the fault is known to be over for the server too
/// (its FAULT_RESOLVED event seen, its VM ended, or a later listing no longer holding it), so memory is bounded
/// by the faults in flight and those whose end is still on its way.
/// </summary>
internal sealed class FaultLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string VmUid, ulong FaultId), State> _faults = [];

    private enum State
    {
        /// <summary>With the handler or ResolveFault now.</summary>
        InFlight,

        /// <summary>Over on this side; its end on the server side not yet seen.</summary>
        Done,

        /// <summary>In flight, and already seen resolved (elsewhere, or by this run's call): forget it when done.</summary>
        InFlightOver,
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _faults.Count;
            }
        }
    }

    /// <summary>True the first time a fault is seen in this run: the caller hands it to the handler.</summary>
    public bool TryClaim(string vmUid, ulong faultId)
    {
        lock (_lock)
        {
            return _faults.TryAdd((vmUid, faultId), State.InFlight);
        }
    }

    /// <summary>This run is done with the fault (resolved, refused, or left to the fallback).</summary>
    public void Finish(string vmUid, ulong faultId)
    {
        lock (_lock)
        {
            if (_faults.TryGetValue((vmUid, faultId), out var state))
            {
                if (state == State.InFlightOver)
                {
                    _faults.Remove((vmUid, faultId));
                }
                else
                {
                    _faults[(vmUid, faultId)] = State.Done;
                }
            }
        }
    }

    /// <summary>The fault's FAULT_RESOLVED event was seen: no listing or replay can offer it again as pending.</summary>
    public void Resolved(string vmUid, ulong faultId)
    {
        lock (_lock)
        {
            if (_faults.TryGetValue((vmUid, faultId), out var state))
            {
                if (state == State.InFlight)
                {
                    _faults[(vmUid, faultId)] = State.InFlightOver;
                }
                else
                {
                    _faults.Remove((vmUid, faultId));
                }
            }
        }
    }

    /// <summary>The VM incarnation ended: its faults are over.</summary>
    public void Ended(string vmUid)
    {
        lock (_lock)
        {
            foreach (var key in _faults.Keys.Where(k => k.VmUid == vmUid).ToList())
            {
                if (_faults[key] == State.InFlight)
                {
                    _faults[key] = State.InFlightOver;
                }
                else
                {
                    _faults.Remove(key);
                }
            }
        }
    }

    /// <summary>
    /// A listing of <paramref name="listedVmUids"/> taken after every fault marked done had been answered: a done
    /// fault of those VMs that it does not hold pending is over.
    /// </summary>
    public void Prune(IReadOnlySet<string> listedVmUids, IReadOnlySet<(string VmUid, ulong FaultId)> pending)
    {
        lock (_lock)
        {
            foreach (var (key, state) in _faults.ToList())
            {
                if (state == State.Done && listedVmUids.Contains(key.VmUid) && !pending.Contains(key))
                {
                    _faults.Remove(key);
                }
            }
        }
    }
}
