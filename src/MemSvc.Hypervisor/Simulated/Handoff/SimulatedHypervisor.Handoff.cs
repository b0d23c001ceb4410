using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedHypervisor
{
    /// <summary>
    /// Makes again, in this process, a VM another process exported (<see cref="SimulatedVm.Export"/>): the same
    /// attributes, files and contents, memslots at the same user addresses, and vCPUs at the same place in the same
    /// programs (not running: the caller starts them). Returns the VM, its files by the inode the state names them
    /// with, and its vCPUs in the state's order. A state of another host profile, or whose shared sides collide with this process's mappings, is refused
    /// and leaves nothing behind. <paramref name="cameAhead"/> (version 4) holds what the state left out because it
    /// came before it.
    /// </summary>
    public (SimulatedVm Vm, IReadOnlyDictionary<ulong, SimulatedGuestMemfd> Files, IReadOnlyList<SimulatedVcpu> Vcpus) Adopt(SimulatedVmState state, CameAhead? cameAhead = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Profile != Profile.Name)
        {
            throw Fail.Inval("handoff", $"the VM was made under host profile '{state.Profile}', this server models '{Profile.Name}'", "profile");
        }

        var vm = CreateSimulatedVm(state.Type);
        try
        {
            Dictionary<ulong, SimulatedGuestMemfd> files;
            lock (vm.SyncRoot)
            {
                files = vm.ImportLocked(state, cameAhead);
            }

            var vcpus = new List<SimulatedVcpu>(state.Vcpus.Count);
            foreach (var vcpu in state.Vcpus)
            {
                var made = vm.CreateSimulatedVcpu(vcpu.Index);
                made.Import(vcpu, cameAhead?.Program(vcpu.Index));
                vcpus.Add(made);
            }

            return (vm, files, vcpus);
        }
        catch
        {
            vm.Dispose();
            throw;
        }
    }
}
