using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// Every RPC that names a VM (directly or through a child resource), each as a well-formed call on one VM set up
/// by <see cref="Scenario.VmWithMemoryAsync"/> (guest_memfd 1, slots 0 and 1). DeleteVm comes last.
/// </summary>
public static class VmScopedCalls
{
    public static IReadOnlyList<(string Rpc, Func<Clients, string, CancellationToken, Task> Call)> All { get; } =
    [
        ("GetVm", (c, vm, ct) => c.Vms.GetVmAsync(new() { Name = vm }, cancellationToken: ct).ResponseAsync),
        ("GetGuestMemfd", (c, vm, ct) => c.Memory.GetGuestMemfdAsync(new() { Name = vm + "/guestMemfds/1" }, cancellationToken: ct).ResponseAsync),
        ("ListGuestMemfds", (c, vm, ct) => c.Memory.ListGuestMemfdsAsync(new() { Parent = vm }, cancellationToken: ct).ResponseAsync),
        ("CreateGuestMemfd", (c, vm, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = vm, Size = Page }, cancellationToken: ct).ResponseAsync),
        ("AllocateGuestMemfd", (c, vm, ct) => c.Memory.AllocateGuestMemfdAsync(new() { Name = vm + "/guestMemfds/1", Offset = 0, Size = Page }, cancellationToken: ct).ResponseAsync),
        ("DiscardGuestMemfd", (c, vm, ct) => c.Memory.DiscardGuestMemfdAsync(new() { Name = vm + "/guestMemfds/1", Offset = 48 * MiB, Size = Page }, cancellationToken: ct).ResponseAsync),
        ("GetMemoryRegion", (c, vm, ct) => c.Memory.GetMemoryRegionAsync(new() { Name = vm + "/memoryRegions/0" }, cancellationToken: ct).ResponseAsync),
        ("ListMemoryRegions", (c, vm, ct) => c.Memory.ListMemoryRegionsAsync(new() { Parent = vm }, cancellationToken: ct).ResponseAsync),
        ("SetMemoryRegion", (c, vm, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = vm, Slot = 7, Gpa = 256 * MiB, Size = Page }, cancellationToken: ct).ResponseAsync),
        ("SetMemoryAttributes", (c, vm, ct) => c.Memory.SetMemoryAttributesAsync(new() { Vm = vm, Gpa = 0, Size = Page, Attributes = { MemoryAttribute.Private } }, cancellationToken: ct).ResponseAsync),
        ("GetMemoryAttributes", (c, vm, ct) => c.Memory.GetMemoryAttributesAsync(new() { Vm = vm, Gpa = 0, Size = MiB }, cancellationToken: ct).ResponseAsync),
        ("ConvertMemory", (c, vm, ct) => c.Memory.ConvertMemoryAsync(new() { Vm = vm, Gpa = 0, Size = Page, Target = MemoryVisibility.Shared }, cancellationToken: ct).ResponseAsync),
        ("WriteGuestMemory", (c, vm, ct) => c.Memory.WriteGuestMemoryAsync(new() { Vm = vm, Gpa = 8 * Page, Data = Google.Protobuf.ByteString.CopyFrom(1, 2, 3) }, cancellationToken: ct).ResponseAsync),
        ("ReadGuestMemory", (c, vm, ct) => c.Memory.ReadGuestMemoryAsync(new() { Vm = vm, Gpa = 8 * Page, Size = 3 }, cancellationToken: ct).ResponseAsync),
        ("GetVcpu", (c, vm, ct) => c.Vcpus.GetVcpuAsync(new() { Name = vm + "/vcpus/0" }, cancellationToken: ct).ResponseAsync),
        ("ListVcpus", (c, vm, ct) => c.Vcpus.ListVcpusAsync(new() { Parent = vm }, cancellationToken: ct).ResponseAsync),
        ("LoadGuestProgram", (c, vm, ct) => c.Vcpus.LoadGuestProgramAsync(new() { Name = vm + "/vcpus/0", Program = Program(Halt()) }, cancellationToken: ct).ResponseAsync),
        ("StartVcpu", (c, vm, ct) => c.Vcpus.StartVcpuAsync(new() { Name = vm + "/vcpus/0" }, cancellationToken: ct).ResponseAsync),
        ("PauseVcpu", (c, vm, ct) => c.Vcpus.PauseVcpuAsync(new() { Name = vm + "/vcpus/0" }, cancellationToken: ct).ResponseAsync),
        ("ResolveFault", (c, vm, ct) => c.Events.ResolveFaultAsync(new() { Vm = vm, FaultId = 1, Action = FaultAction.Convert }, cancellationToken: ct).ResponseAsync),
        ("WatchEvents", WatchOneAsync),
        ("ListPendingFaults", (c, vm, ct) => c.Events.ListPendingFaultsAsync(new() { Vm = vm }, cancellationToken: ct).ResponseAsync),
        ("RevokeMemoryRegionBacking", (c, vm, ct) => c.Memory.RevokeMemoryRegionBackingAsync(new() { Name = vm + "/memoryRegions/1" }, cancellationToken: ct).ResponseAsync),
        ("DeleteMemoryRegion", (c, vm, ct) => c.Memory.DeleteMemoryRegionAsync(new() { Name = vm + "/memoryRegions/1" }, cancellationToken: ct).ResponseAsync),
        ("DeleteGuestMemfd", (c, vm, ct) => c.Memory.DeleteGuestMemfdAsync(new() { Name = vm + "/guestMemfds/1" }, cancellationToken: ct).ResponseAsync),
        ("DeleteVm", (c, vm, ct) => c.Vms.DeleteVmAsync(new() { Name = vm }, cancellationToken: ct).ResponseAsync),
    ];

    /// <summary>A watch from sequence 1 that reads one event: the VM's first event exists, so this returns or fails.</summary>
    private static async Task WatchOneAsync(Clients clients, string vm, CancellationToken ct)
    {
        using var call = clients.Events.WatchEvents(new() { Vm = vm, StartSequence = 1 }, cancellationToken: ct);
        Assert.True(await call.ResponseStream.MoveNext(ct));
    }
}
