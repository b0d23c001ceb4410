using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;
using static MemSvc.IntegrationTests.Infrastructure.MemSvcClients;

namespace MemSvc.IntegrationTests;

/// <summary>The kvm backend inside the container, on the host's real /dev/kvm given to the non-root user.</summary>
[Collection(DockerCollection.Name)]
public sealed class KvmBackendTests(DockerFixture docker)
{
    private const string Vm = "vms/kvm-smoke";

    [Fact(Timeout = 180_000)]
    public async Task Default_vm_on_dev_kvm_runs_a_guest_program_to_halted()
    {
        docker.SkipIfUnavailable();
        if (!MemSvcContainer.HostHasKvm)
        {
            Assert.Skip("this host has no /dev/kvm to pass into the container (the kvm module is not loaded or not permitted)");
        }

        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image, withKvm: true);
        var api = new MemSvcClients(memsvc.Channel);
        var ct = TestContext.Current.CancellationToken;

        var host = await api.Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: ct);
        Assert.Contains(host.Backends, b => b.Backend == Backend.Kvm);

        await api.Vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = "kvm-smoke",
            Backend = Backend.Kvm,
            VmType = VmType.Default,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Auto,
        }, cancellationToken: ct);
        await api.BindGuestMemfdSlotAsync(Vm, 2 * MiB, ct, GuestMemfdFlag.Mmap, GuestMemfdFlag.InitShared);

        await using var watcher = new EventStream(api.Events, Vm, startSequence: 1);
        await api.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest
        {
            Name = Vm + "/vcpus/0",
            Program = Program(
                Write(Page, Page, 0x5A, AccessIntent.Shared),
                Check(Page, Page, 0x5A, AccessIntent.Shared),
                Report(42),
                Halt()),
        }, cancellationToken: ct);
        await api.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = Vm + "/vcpus/0" }, cancellationToken: ct);

        var reported = false;
        while (true)
        {
            var e = await watcher.NextAsync(TimeSpan.FromSeconds(30), "the kvm vCPU to halt");
            if (e.PayloadCase == Event.PayloadOneofCase.GuestReport)
            {
                Assert.Equal(42u, e.GuestReport.Value);
                reported = true;
            }
            else if (e.PayloadCase == Event.PayloadOneofCase.VcpuStateChanged && e.VcpuStateChanged.State is VcpuState.Halted or VcpuState.Failed or VcpuState.Shutdown)
            {
                Assert.Equal(VcpuState.Halted, e.VcpuStateChanged.State);
                break;
            }
        }

        Assert.True(reported);
        var vcpu = (await api.Vcpus.GetVcpuAsync(new GetVcpuRequest { Name = Vm + "/vcpus/0" }, cancellationToken: ct)).Vcpu;
        Assert.Equal(VcpuState.Halted, vcpu.State);
        var data = await api.Memory.ReadGuestMemoryAsync(new ReadGuestMemoryRequest { Vm = Vm, Gpa = Page, Size = Page }, cancellationToken: ct);
        Assert.All(data.Data.ToByteArray(), b => Assert.Equal(0x5A, b));
    }
}
