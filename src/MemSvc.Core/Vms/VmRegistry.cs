using MemSvc.Core.Errors;
using MemSvc.Core.Identity;

namespace MemSvc.Core.Vms;

/// <summary>
/// The VMs by id, in ordinal order (ListVms pages through it stably), with ownership checks. A name is reserved
/// while its VM is being created, so two creators of one name cannot both reach the backend.
/// </summary>
internal sealed class VmRegistry
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, ManagedVm> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _reserved = new(StringComparer.Ordinal);
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

            if (_vms.ContainsKey(vmId) || _reserved.ContainsKey(vmId))
            {
                throw new CoreException(ErrorKind.AlreadyExists, ErrorReasons.VmAlreadyExists, $"vm '{vmId}' already exists", "vm_id", CoreErrors.Meta("vm_id", vmId));
            }

            var owned = _vms.Values.Count(v => v.Owner == owner) + _reserved.Values.Count(o => o == owner);
            if (owned >= maxVmsPerOwner)
            {
                throw CoreErrors.QuotaExceeded("max_vms_per_owner", (ulong)maxVmsPerOwner, (ulong)owned + 1);
            }

            _reserved.Add(vmId, owner);
        }
    }

    public void Unreserve(string vmId)
    {
        lock (_lock)
        {
            _reserved.Remove(vmId);
        }
    }

    /// <summary>Turns a reservation into a VM; false when the registry closed meanwhile (the caller disposes the VM).</summary>
    public bool Commit(ManagedVm vm)
    {
        Action<ManagedVm>[] subscribers;
        lock (_lock)
        {
            _reserved.Remove(vm.Id);
            if (_closed)
            {
                return false;
            }

            _vms.Add(vm.Id, vm);
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber(vm);
        }

        return true;
    }

    /// <summary>The VM, or NOT_FOUND VM_NOT_FOUND when it does not exist or belongs to someone else (names do not leak).</summary>
    public ManagedVm Find(CallerIdentity caller, string vmId)
    {
        lock (_lock)
        {
            if (_vms.TryGetValue(vmId, out var vm) && caller.MaySee(vm.Owner))
            {
                return vm;
            }
        }

        throw CoreErrors.VmNotFound(vmId);
    }

    public ManagedVm Remove(CallerIdentity caller, string vmId)
    {
        lock (_lock)
        {
            var vm = Find(caller, vmId);
            _vms.Remove(vmId);
            return vm;
        }
    }

    /// <summary>Up to <paramref name="count"/> VMs the caller may see, with ids after <paramref name="after"/>, in order.</summary>
    public List<ManagedVm> Page(CallerIdentity caller, string? after, int count)
    {
        lock (_lock)
        {
            return [.. _vms.Values
                .Where(v => (after is null || string.CompareOrdinal(v.Id, after) > 0) && caller.MaySee(v.Owner))
                .Take(count)];
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

    /// <summary>Guest memory bytes the owner's VMs hold, for the memory quota.</summary>
    public ulong GuestMemoryBytes(string owner)
    {
        List<ManagedVm> owned;
        lock (_lock)
        {
            owned = [.. _vms.Values.Where(v => v.Owner == owner)];
        }

        ulong total = 0;
        foreach (var vm in owned)
        {
            lock (vm.Memory.Sync)
            {
                total += vm.Memory.AccountedBytes;
            }
        }

        return total;
    }

    public List<ManagedVm> All()
    {
        lock (_lock)
        {
            return [.. _vms.Values];
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
