using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Errors;

/// <summary>
/// One server for every bad-input case: "p" (sw-protected, guest_memfd 1 without MMAP bound to slots 0 and 1,
/// page 0 private, a loaded program on vCPU 1), "q" (sw-protected, its own guest_memfd) and "d" (default type).
/// </summary>
public sealed class BadInputServer : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    public Clients Clients { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await RunningServer.StartAsync(("MemSvc:JournalRetention", "16"));
        Clients = new Clients(Server.LoopbackChannel());
        var p = await Scenario.VmWithMemoryAsync(Clients, "p", vcpus: 2);
        await Scenario.VmWithMemoryAsync(Clients, "q");
        await Clients.Vms.CreateVmAsync(new CreateVmRequest { VmId = "d", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: TestContext.Current.CancellationToken);
        await Clients.Memory.SetMemoryAttributesAsync(new SetMemoryAttributesRequest { Vm = p.Name, Gpa = 0, Size = Page, Attributes = { MemoryAttribute.Private } }, cancellationToken: TestContext.Current.CancellationToken);
        await Clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = "vms/p/vcpus/1", Program = Program(Halt()) }, cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
