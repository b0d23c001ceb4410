using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm.Handoff;

namespace MemSvc.Hypervisor.Kvm;

public sealed partial class KvmHypervisor
{
    /// <summary>
    /// Makes again, in this process, a VM another process exported (<see cref="KvmVm.Export"/>) with the descriptors
    /// it passed: a new VM (KVM answers the old VM's fd only in the process that created it) with the same memslots
    /// over the same shared memory, the same attributes, guest_memfds with the same bytes, and vCPUs with the same
    /// registers (not running: the caller starts them). Returns the VM, its files by the inode the old ones had, and
    /// its vCPUs in the state's order. Fails leaving nothing behind; <paramref name="descriptors"/> stay the caller's.
    /// </summary>
    public (KvmVm Vm, IReadOnlyDictionary<ulong, IGuestMemfd> Files, IReadOnlyList<IVcpu> Vcpus) Adopt(KvmVmState state, IReadOnlyList<SafeHandle> descriptors)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(descriptors);
        var vm = (KvmVm)CreateVm(state.Type);
        var files = new Dictionary<ulong, KvmGuestMemfd>();
        try
        {
            var vcpus = vm.Import(state, descriptors, files);
            return (vm, files.ToDictionary(f => f.Key, f => (IGuestMemfd)f.Value), vcpus);
        }
        catch
        {
            vm.Dispose();
            foreach (var file in files.Values)
            {
                file.Dispose();
            }

            throw;
        }
    }
}
