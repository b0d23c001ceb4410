using System.Text;
using MemSvc.Core.Vms;

namespace MemSvc.Core.Tests.Support;

/// <summary>Everything the API shows about the VMs Admin can see, as text: equal snapshots mean nothing changed.</summary>
internal static class StateSnapshot
{
    public static string Of(VmManager manager)
    {
        var text = new StringBuilder();
        foreach (var vm in manager.Vms.ListVms(Core.Admin, 1000).Vms)
        {
            text.AppendLine(vm with { State = VmState.Unspecified } is var v ? v.ToString() : string.Empty);
            foreach (var memfd in manager.GuestMemfds.ListGuestMemfds(Core.Admin, vm.VmId))
            {
                text.AppendLine(memfd.ToString());
            }

            foreach (var region in manager.MemoryRegions.ListMemoryRegions(Core.Admin, vm.VmId))
            {
                text.AppendLine(region.ToString());
            }

            foreach (var run in manager.Memory.GetMemoryAttributes(Core.Admin, vm.VmId, 0, 1UL << 40))
            {
                text.AppendLine(run.ToString());
            }

            foreach (var vcpu in manager.Vcpus.ListVcpus(Core.Admin, vm.VmId))
            {
                text.AppendLine($"{vcpu.Index} {vcpu.State} {vcpu.Reason} {vcpu.ProgramLoaded}");
            }
        }

        return text.ToString();
    }
}
