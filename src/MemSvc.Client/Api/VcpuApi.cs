using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Api;

/// <summary>VcpuService: guest programs and the vCPUs that run them.</summary>
public sealed class VcpuApi
{
    private readonly VcpuService.VcpuServiceClient _stub;
    private readonly UnaryInvoker _invoker;

    internal VcpuApi(VcpuService.VcpuServiceClient stub, UnaryInvoker invoker)
    {
        _stub = stub;
        _invoker = invoker;
    }

    /// <summary>Loads a program on a vCPU that is not running; loading the same program again leaves it READY.</summary>
    public async Task<Vcpu> LoadProgramAsync(string vm, uint index, GuestProgram program, CancellationToken cancellationToken = default)
    {
        var request = new LoadGuestProgramRequest { Name = ResourceNames.Vcpu(vm, index), Program = program };
        var response = await _invoker.InvokeAsync(Kind(nameof(VcpuService.VcpuServiceClient.LoadGuestProgram)), o => _stub.LoadGuestProgramAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Vcpu;
    }

    /// <summary>Starts or resumes a vCPU. Never retried: a repeat could start a program again that already ran.</summary>
    public async Task<Vcpu> StartAsync(string vm, uint index, CancellationToken cancellationToken = default)
    {
        var request = new StartVcpuRequest { Name = ResourceNames.Vcpu(vm, index) };
        var response = await _invoker.InvokeAsync(Kind(nameof(VcpuService.VcpuServiceClient.StartVcpu)), o => _stub.StartVcpuAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Vcpu;
    }

    /// <summary>Pauses a vCPU. Never retried: a repeat on a vCPU paused by the first attempt fails.</summary>
    public async Task<Vcpu> PauseAsync(string vm, uint index, CancellationToken cancellationToken = default)
    {
        var request = new PauseVcpuRequest { Name = ResourceNames.Vcpu(vm, index) };
        var response = await _invoker.InvokeAsync(Kind(nameof(VcpuService.VcpuServiceClient.PauseVcpu)), o => _stub.PauseVcpuAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Vcpu;
    }

    /// <summary>vCPU <paramref name="index"/> of <paramref name="vm"/>: its state and last exit.</summary>
    public async Task<Vcpu> GetAsync(string vm, uint index, CancellationToken cancellationToken = default)
    {
        var request = new GetVcpuRequest { Name = ResourceNames.Vcpu(vm, index) };
        var response = await _invoker.InvokeAsync(Kind(nameof(VcpuService.VcpuServiceClient.GetVcpu)), o => _stub.GetVcpuAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Vcpu;
    }

    /// <summary>Every vCPU of <paramref name="vm"/>, page after page.</summary>
    public IAsyncEnumerable<Vcpu> ListAsync(string vm, CancellationToken cancellationToken = default) =>
        Paging.All<Vcpu>(async (token, ct) =>
        {
            var request = new ListVcpusRequest { Parent = ResourceNames.Vm(vm), PageToken = token };
            var page = await _invoker.InvokeAsync(Kind(nameof(VcpuService.VcpuServiceClient.ListVcpus)), o => _stub.ListVcpusAsync(request, o), ct).ConfigureAwait(false);
            return (page.Vcpus, page.NextPageToken);
        }, cancellationToken);

    private static CallKind Kind(string method) => CallKinds.Of(VcpuService.Descriptor, method);
}
