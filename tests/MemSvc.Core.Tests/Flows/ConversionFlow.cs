using MemSvc.Core.Faults;
using MemSvc.Core.Memory;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Flows;

/// <summary>
/// The setup the flow tests share: an sw-protected VM with 2 vCPUs, a 64 MiB guest_memfd bound by two 32 MiB
/// memslots, the first 16 MiB private, and per vCPU a program that faults both ways and asks for conversions.
/// </summary>
internal static class ConversionFlow
{
    public const ulong Base = 0x1_0000_0000;
    public const ulong SecondSlot = 0x1_0200_0000;
    public const ulong PrivateSize = 16 * M;

    /// <summary>vCPU i's page that starts private (written with shared intent).</summary>
    public static ulong PrivatePage(int vcpu) => Base + ((ulong)vcpu * 0x10000);

    /// <summary>vCPU i's page that starts shared (written with private intent).</summary>
    public static ulong SharedPage(int vcpu) => Base + PrivateSize + ((ulong)vcpu * 0x10000);

    public static void SetUp(VmManager manager, string vmId, FaultPolicy policy, TimeSpan timeout = default, FaultAction fallback = FaultAction.Unspecified)
    {
        manager.Vms.CreateVm(Alice, new CreateVmRequest
        {
            VmId = vmId,
            VmType = VmType.SwProtected,
            VcpuCount = 2,
            FaultPolicy = policy,
            ResolutionTimeout = timeout == default ? TimeSpan.FromSeconds(30) : timeout,
            TimeoutFallback = fallback,
        });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, vmId, 64 * M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, vmId, new SetMemoryRegionRequest { Slot = 0, Gpa = Base, Size = 32 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id, GuestMemfdOffset = 0 });
        manager.MemoryRegions.SetMemoryRegion(Alice, vmId, new SetMemoryRegionRequest { Slot = 1, Gpa = SecondSlot, Size = 32 * M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id, GuestMemfdOffset = 32 * M });
        manager.Memory.SetMemoryAttributes(Alice, vmId, Base, PrivateSize, MemoryAttributes.Private);
        for (var i = 0; i < 2; i++)
        {
            // Stale shared data that converting the page to private must discard: the guest later reads zeros.
            manager.Memory.WriteGuestMemory(Alice, vmId, SharedPage(i), Enumerable.Repeat((byte)0x77, (int)K4).ToArray());
            manager.Vcpus.LoadGuestProgram(Alice, vmId, i, Program(i));
        }
    }

    public static GuestProgram Program(int i)
    {
        var shared = SharedPage(i);
        var priv = PrivatePage(i);
        return Support.Core.Program(
            Write(shared, K4, (byte)(0xa0 + i), AccessIntent.Private),
            Write(priv, K4, (byte)(0xb0 + i), AccessIntent.Shared),
            GuestStep.MapGpaRange.ToShared(shared, 1),
            Check(priv, K4, (byte)(0xb0 + i), AccessIntent.Shared),
            Check(shared, K4, 0x00, AccessIntent.Shared),
            GuestStep.MapGpaRange.ToPrivate(shared + K4, 2),
            Write(shared + K4, 2 * K4, (byte)(0xc0 + i), AccessIntent.Private),
            Check(shared + K4, 2 * K4, (byte)(0xc0 + i), AccessIntent.Private),
            new GuestStep.Report(0x1000 + (uint)i),
            new GuestStep.Halt());
    }

    /// <summary>The attribute runs over both slots after both programs ran with every fault converted.</summary>
    public static AttributeRange[] ExpectedAttributes() =>
    [
        new(Base, 0x1000, MemoryAttributes.None),
        new(Base + 0x1000, 0xf000, MemoryAttributes.Private),
        new(Base + 0x10000, 0x1000, MemoryAttributes.None),
        new(Base + 0x11000, PrivateSize - 0x11000, MemoryAttributes.Private),
        new(Base + PrivateSize, 0x1000, MemoryAttributes.None),
        new(Base + PrivateSize + 0x1000, 0x2000, MemoryAttributes.Private),
        new(Base + PrivateSize + 0x3000, 0xe000, MemoryAttributes.None),
        new(Base + PrivateSize + 0x11000, 0x2000, MemoryAttributes.Private),
        new(Base + PrivateSize + 0x13000, (64 * M) - PrivateSize - 0x13000, MemoryAttributes.None),
    ];
}
