using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

public class SmokeTests
{
    [Fact]
    public void Private_write_to_a_shared_page_exits_with_a_private_memory_fault_then_succeeds_after_conversion()
    {
        var (vm, _) = VmWithSlot(VmType.Snp, gpa: 0x100000);
        var vcpu = vm.CreateVcpu(0);
        vcpu.LoadProgram(Program(Write(0x100123, 10, 0x5a, AccessIntent.Private), new GuestStep.Report(7), new GuestStep.Halt()));

        Assert.Equal(new VmExit.MemoryFault(0x100000, 4096, MemoryFaultFlags.Private), vcpu.Run());
        Assert.Equal(new VmExit.MemoryFault(0x100000, 4096, MemoryFaultFlags.Private), vcpu.Run());

        vm.SetMemoryAttributes(0x100000, 4096, MemoryAttributes.Private);
        Assert.Equal(new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 7), vcpu.Run());
        Assert.IsType<VmExit.Halt>(vcpu.Run());
        Assert.IsType<VmExit.Halt>(vcpu.Run());
        Assert.Equal(new byte[16], ReadShared(vm, 0x100120, 16));
    }
}
