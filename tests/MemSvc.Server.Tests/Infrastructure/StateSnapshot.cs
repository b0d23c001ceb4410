using System.Text;
using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// Everything a client can observe about its VMs, as text: VMs, guest_memfds, memory regions, vCPUs and the
/// attributes of the first GiB. Two equal snapshots mean a call changed nothing.
/// </summary>
public static class StateSnapshot
{
    public static async Task<string> TakeAsync(Clients clients)
    {
        var ct = TestContext.Current.CancellationToken;
        var text = new StringBuilder();
        var vms = await clients.Vms.ListVmsAsync(new ListVmsRequest { PageSize = 1000 }, cancellationToken: ct);
        foreach (var vm in vms.Vms)
        {
            text.AppendLine(vm.ToString());
            var memfds = await clients.Memory.ListGuestMemfdsAsync(new ListGuestMemfdsRequest { Parent = vm.Name, PageSize = 1000 }, cancellationToken: ct);
            text.AppendLine(memfds.ToString());
            var regions = await clients.Memory.ListMemoryRegionsAsync(new ListMemoryRegionsRequest { Parent = vm.Name, PageSize = 1000 }, cancellationToken: ct);
            text.AppendLine(regions.ToString());
            var vcpus = await clients.Vcpus.ListVcpusAsync(new ListVcpusRequest { Parent = vm.Name, PageSize = 1000 }, cancellationToken: ct);
            text.AppendLine(vcpus.ToString());
            var attributes = await clients.Memory.GetMemoryAttributesAsync(new GetMemoryAttributesRequest { Vm = vm.Name, Gpa = 0, Size = 1UL << 30 }, cancellationToken: ct);
            text.AppendLine(attributes.ToString());
        }

        return text.ToString();
    }
}
