using MemSvc.Hypervisor.Simulated;
using MemSvc.Hypervisor.Tests.Capabilities;
using MemSvc.Hypervisor.Tests.Kvm;
using MemSvc.Hypervisor.Tests.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

/// <summary>
/// DESIGN.md's promise: the same guest program on both backends ends with the same data in guest memory and
/// the same sequence of exits. Both backends, the simulated one under every host profile, are held to one expected
/// transcript, so the simulated half still checks something on a host without /dev/kvm.
/// </summary>
public class GuestProgramParity
{
    private const ulong SlotGpa = 0x200000;
    private const ulong SlotSize = 0x200000;

    private static readonly GuestProgram Program = new(
    [
        new GuestStep.WritePattern(SlotGpa, 0x3000, 0xaa, AccessIntent.Shared),
        new GuestStep.Report(1),
        new GuestStep.CheckPattern(SlotGpa + 0x1000, 0x1000, 0xaa, AccessIntent.Shared),
        GuestStep.MapGpaRange.ToShared(SlotGpa + 0x1000, 2),
        new GuestStep.WritePattern(SlotGpa + 0x1800, 0x10, 0x5c, AccessIntent.Shared),
        new GuestStep.Report(0xdeadbeef),
        new GuestStep.CheckPattern(SlotGpa, 0x1000, 0x5c, AccessIntent.Shared),
    ]);

    private static readonly VmExit[] ExpectedExits =
    [
        new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 1),
        new VmExit.MapGpaRange(SlotGpa + 0x1000, 2, 0),
        new VmExit.PortIo(GuestProgram.ReportPort, true, 4, 0xdeadbeef),
        new VmExit.GuestAbort(6, GuestAbortReason.PatternMismatch, SlotGpa, 0x5c, 0xaa),
    ];

    public static TheoryData<string> Profiles => [.. SimulatedHostProfile.Names];

    /// <summary>Every host profile, the real hosts' included, gives the one transcript the kvm backend gives.</summary>
    [Theory]
    [MemberData(nameof(Profiles))]
    public void Simulated_backend_gives_the_expected_transcript_on_every_host_profile(string profile) =>
        AssertTranscript(Sim.NewHypervisor(profile));

    [Fact]
    public void Kvm_backend_gives_the_same_transcript() =>
        AssertTranscript(KvmTestHost.Open(HostNeed.MapGpaRangeExit));

    private static void AssertTranscript(IHypervisor hypervisor)
    {
        using (hypervisor)
        {
            using var vm = hypervisor.CreateVm(VmType.Default);
            vm.EnableExitHypercall(1UL << 12);
            vm.SetUserMemoryRegion(new MemoryRegion(0, MemoryRegionFlags.None, SlotGpa, SlotSize, SharedBacking.Anonymous));
            using var vcpu = vm.CreateVcpu(0);
            vcpu.LoadProgram(Program);

            var exits = new List<VmExit>();
            while (exits.Count < ExpectedExits.Length)
            {
                var exit = vcpu.Run();
                exits.Add(exit);
                if (exit is VmExit.MapGpaRange)
                {
                    vcpu.CompleteHypercall(0);
                }
            }

            Assert.Equal(ExpectedExits, exits);
            var memory = new byte[0x4000];
            vm.ReadSharedMemory(SlotGpa, memory);
            Assert.All(memory.AsSpan(0, 0x1800).ToArray(), b => Assert.Equal(0xaa, b));
            Assert.All(memory.AsSpan(0x1800, 0x10).ToArray(), b => Assert.Equal(0x5c, b));
            Assert.All(memory.AsSpan(0x1810, 0x17f0).ToArray(), b => Assert.Equal(0xaa, b));
            Assert.All(memory.AsSpan(0x3000, 0x1000).ToArray(), b => Assert.Equal(0, b));
        }
    }
}
