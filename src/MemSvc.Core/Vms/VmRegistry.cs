using MemSvc.Core.Errors;
using MemSvc.Core.Identity;

namespace MemSvc.Core.Vms;

/// <summary>
/// The VMs by owner and id, in id order (ListVms pages through it stably), with ownership checks. Each owner has
/// a namespace of its own: another owner's VM of the same name neither blocks nor reveals anything. A name is
/// reserved while its VM is being created, so two creators of one name cannot both reach the backend.
/// </summary>
internal sealed class VmRegistry
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<VmKey, ManagedVm> _vms = [];
    private readonly HashSet<VmKey> _reserved = [];
    private readonly List<Action<ManagedVm>> _subscribers = [];
    private bool _closed;

    /// <summary>Reserves <paramref name="vmId"/> for <paramref name="owner"/>, checking the name and the owner's VM quota.</summary>
    public void Reserve(string vmId, string owner, int maxVmsPerOwner)
    {
        lock (_lock)
        {
            if (_closed)
            {
                throw CoreErrors.ShuttingDown();
            }

            var key = new VmKey(vmId, owner);
            if (_vms.ContainsKey(key) || _reserved.Contains(key))
            {
                throw new CoreException(ErrorKind.AlreadyExists, ErrorReasons.VmAlreadyExists, $"vm '{vmId}' already exists", "vm_id", CoreErrors.Meta("vm_id", vmId));
            }

            var owned = _vms.Keys.Count(k => k.Owner == owner) + _reserved.Count(k => k.Owner == owner);
            if (owned >= maxVmsPerOwner)
            {
                throw CoreErrors.QuotaExceeded("max_vms_per_owner", (ulong)maxVmsPerOwner, (ulong)owned + 1);
            }

            _reserved.Add(key);
        }
    }

    public void Unreserve(string vmId, string owner)
    {
        lock (_lock)
        {
            _reserved.Remove(new VmKey(vmId, owner));
        }
    }

    /// <summary>Turns a reservation into a VM; false when the registry closed meanwhile (the caller disposes the VM).</summary>
    public bool Commit(ManagedVm vm)
    {
        Action<ManagedVm>[] subscribers;
        lock (_lock)
        {
            _reserved.Remove(vm.Key);
            if (_closed)
            {
                return false;
            }

            _vms.Add(vm.Key, vm);
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber(vm);
        }

        return true;
    }

    /// <summary>
    /// The caller's VM of that name, or NOT_FOUND VM_NOT_FOUND when it has none (another owner's VM of the name is
    /// not looked at, so names do not leak). An admin without a VM of the name reaches the one other owner's VM of
    /// it; FAILED_PRECONDITION VM_NAME_AMBIGUOUS when several owners have one.
    /// </summary>
    public ManagedVm Find(CallerIdentity caller, string vmId)
    {
        lock (_lock)
        {
            return FindLocked(caller, vmId);
        }
    }

    public ManagedVm Remove(CallerIdentity caller, string vmId)
    {
        lock (_lock)
        {
            var vm = FindLocked(caller, vmId);
            _vms.Remove(vm.Key);
            return vm;
        }
    }

    /// <summary>Up to <paramref name="count"/> VMs the caller may see, after <paramref name="after"/> in (id, owner) order.</summary>
    public List<ManagedVm> Page(CallerIdentity caller, VmKey? after, int count)
    {
        lock (_lock)
        {
            return [.. _vms
                .Where(e => (after is null || e.Key.CompareTo(after.Value) > 0) && caller.MaySee(e.Key.Owner))
                .Take(count)
                .Select(e => e.Value)];
        }
    }

    /// <summary>
    /// The VMs the caller may see now, and a subscription to those committed from now on: taken under one lock,
    /// so that no VM is both listed and announced, or neither.
    /// </summary>
    public List<ManagedVm> Subscribe(CallerIdentity caller, Action<ManagedVm> onAdded)
    {
        lock (_lock)
        {
            _subscribers.Add(onAdded);
            return [.. _vms.Values.Where(v => caller.MaySee(v.Owner))];
        }
    }

    public void Unsubscribe(Action<ManagedVm> onAdded)
    {
        lock (_lock)
        {
            _subscribers.Remove(onAdded);
        }
    }

    public List<ManagedVm> All()
    {
        lock (_lock)
        {
            return [.. _vms.Values];
        }
    }

    private ManagedVm FindLocked(CallerIdentity caller, string vmId)
    {
        if (_vms.TryGetValue(new VmKey(vmId, caller.Identity), out var own))
        {
            return own;
        }

        if (caller.IsAdmin)
        {
            // Linear, but only for admins, over at most every owner's quota of VMs.
            var others = _vms.Values.Where(v => v.Id == vmId).Take(2).ToList();
            if (others.Count == 1)
            {
                return others[0];
            }

            if (others.Count > 1)
            {
                throw new CoreException(
                    ErrorKind.FailedPrecondition,
                    ErrorReasons.VmNameAmbiguous,
                    $"several owners have a vm '{vmId}'; act on it as its owner",
                    null,
                    CoreErrors.Meta("vm_id", vmId));
            }
        }

        throw CoreErrors.VmNotFound(vmId);
    }

    /// <summary>Adds a VM a planned handoff brought, before any call is served; its name must be free.</summary>
    public void AddAdopted(ManagedVm vm)
    {
        lock (_lock)
        {
            if (_closed || !_vms.TryAdd(vm.Key, vm))
            {
                throw new InvalidOperationException($"vm '{vm.Id}' of owner '{vm.Owner}' exists already or the registry is closed");
            }
        }
    }

    /// <summary>Takes back a VM <see cref="AddAdopted"/> added (the adoption of the whole state failed).</summary>
    public void RemoveAdopted(ManagedVm vm)
    {
        lock (_lock)
        {
            _vms.Remove(vm.Key);
        }
    }

    /// <summary>Refuses new VMs and hands back every VM, now removed.</summary>
    public List<ManagedVm> Close()
    {
        lock (_lock)
        {
            _closed = true;
            List<ManagedVm> all = [.. _vms.Values];
            _vms.Clear();
            return all;
        }
    }
}
