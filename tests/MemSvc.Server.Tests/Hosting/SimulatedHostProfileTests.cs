using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>MemSvc:Simulated:HostProfile: the host the simulated backend models, chosen by configuration.</summary>
public sealed class SimulatedHostProfileTests
{
    private const ulong MiB = 1UL << 20;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_the_setting_the_simulated_backend_is_the_default_profile()
    {
        await using var server = await RunningServer.StartAsync();

        var simulated = Assert.Single((await new Clients(server.LoopbackChannel()).Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct)).Backends);

        Assert.Equal("simulated (default: KVM 6.18 semantics with every VM type)", simulated.KernelVersion);
        Assert.Equal([VmType.Default, VmType.SwProtected, VmType.Snp, VmType.Tdx], simulated.VmTypes);
    }

    [Fact]
    public async Task The_setting_selects_the_host_GetHostInfo_reports_and_the_VMs_meet()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Simulated:HostProfile", "kvm-6.18-pvm-no-gmem"));
        var clients = new Clients(server.LoopbackChannel());

        var simulated = Assert.Single((await clients.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct)).Backends);
        await RpcAssert.FailsAsync(
            () => clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "snp", VmType = VmType.Snp, VcpuCount = 1 }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition,
            "VM_TYPE_UNSUPPORTED",
            "vm_type");
        var vm = (await clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "plain", VmType = VmType.Default, VcpuCount = 1 }, cancellationToken: Ct)).Vm;
        var gmem = await RpcAssert.FailsAsync(
            () => clients.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = 2 * MiB }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition,
            "GUEST_MEMFD_UNSUPPORTED");

        Assert.Equal("simulated (kvm-6.18-pvm-no-gmem: kvm_pvm 6.18 without guest_memfd, kvm/field-reports/2026-12-04)", simulated.KernelVersion);
        Assert.Equal([VmType.Default], simulated.VmTypes);
        Assert.Equal((false, 1024U, 32764U), (simulated.GuestMemfd, simulated.MaxVcpus, simulated.MaxMemslots));
        Assert.Empty(simulated.GuestMemfdFlags);
        Assert.Empty(simulated.MemoryAttributes);
        Assert.Equal((0L, 0L, 1L), (simulated.Capabilities["KVM_CAP_GUEST_MEMFD"], simulated.Capabilities["KVM_CAP_GUEST_MEMFD_FLAGS"], simulated.Capabilities["KVM_CAP_VM_TYPES"]));
        Assert.Equal("ENOTTY", gmem.Info.Metadata["errno"]);
    }

    [Fact]
    public async Task The_7_2_profile_reports_the_nested_hosts_limits_and_attributes()
    {
        await using var server = await RunningServer.StartAsync(("MemSvc:Simulated:HostProfile", "kvm-7.2-debian"));

        var simulated = Assert.Single((await new Clients(server.LoopbackChannel()).Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: Ct)).Backends);

        Assert.StartsWith("simulated (kvm-7.2-debian: ", simulated.KernelVersion, StringComparison.Ordinal);
        Assert.Equal(4096U, simulated.MaxVcpus);
        Assert.Equal([MemoryAttribute.Private], simulated.MemoryAttributes);
        Assert.Equal((8L, 0L, 1L, 2L), (simulated.Capabilities["KVM_CAP_MEMORY_ATTRIBUTES"], simulated.Capabilities["vm.KVM_CAP_MEMORY_ATTRIBUTES"], simulated.Capabilities["KVM_CAP_PRE_FAULT_MEMORY"], simulated.Capabilities["KVM_CAP_MULTI_ADDRESS_SPACE"]));
    }

    [Fact]
    public async Task An_unknown_profile_fails_start_up_naming_the_valid_ones()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningServer.StartAsync(("MemSvc:Simulated:HostProfile", "kvm-6.18")));

        Assert.Equal(
            "MemSvc:Simulated:HostProfile must be one of default, kvm-6.18-pvm, kvm-6.18-pvm-no-gmem, kvm-7.2-debian, not 'kvm-6.18'.",
            Assert.Single(error.Failures));
    }
}
