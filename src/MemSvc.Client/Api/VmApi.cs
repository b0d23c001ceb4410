using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Api;

/// <summary>VmService: create, get, list and delete VMs.</summary>
public sealed class VmApi
{
    private readonly VmService.VmServiceClient _stub;
    private readonly UnaryInvoker _invoker;

    internal VmApi(VmService.VmServiceClient stub, UnaryInvoker invoker)
    {
        _stub = stub;
        _invoker = invoker;
    }

    /// <summary>
    /// Creates a VM. A request without request_id gets a fresh one here, so that the retries of a lost answer
    /// return the same VM instead of creating a second one (or failing ALREADY_EXISTS).
    /// </summary>
    public async Task<Vm> CreateAsync(CreateVmRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sent = request.Clone();
        if (string.IsNullOrEmpty(sent.RequestId))
        {
            sent.RequestId = Guid.NewGuid().ToString();
        }

        var response = await _invoker.InvokeAsync(Kind(nameof(VmService.VmServiceClient.CreateVm)), o => _stub.CreateVmAsync(sent, o), cancellationToken).ConfigureAwait(false);
        return response.Vm;
    }

    /// <summary>One VM by id or <c>vms/{vm}</c>.</summary>
    public async Task<Vm> GetAsync(string vm, CancellationToken cancellationToken = default)
    {
        var request = new GetVmRequest { Name = ResourceNames.Vm(vm) };
        var response = await _invoker.InvokeAsync(Kind(nameof(VmService.VmServiceClient.GetVm)), o => _stub.GetVmAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Vm;
    }

    /// <summary>One page of the VMs the caller may see; 0 asks for the server's default page size.</summary>
    public Task<ListVmsResponse> ListPageAsync(int pageSize = 0, string pageToken = "", CancellationToken cancellationToken = default)
    {
        var request = new ListVmsRequest { PageSize = pageSize, PageToken = pageToken };
        return _invoker.InvokeAsync(Kind(nameof(VmService.VmServiceClient.ListVms)), o => _stub.ListVmsAsync(request, o), cancellationToken);
    }

    /// <summary>Every VM the caller may see, page after page.</summary>
    public IAsyncEnumerable<Vm> ListAsync(CancellationToken cancellationToken = default) =>
        Paging.All<Vm>(async (token, ct) =>
        {
            var page = await ListPageAsync(0, token, ct).ConfigureAwait(false);
            return (page.Vms, page.NextPageToken);
        }, cancellationToken);

    /// <summary>Deletes a VM (its vCPUs, memory and pending faults); a NOT_FOUND on a retry counts as done.</summary>
    public async Task DeleteAsync(string vm, CancellationToken cancellationToken = default)
    {
        var request = new DeleteVmRequest { Name = ResourceNames.Vm(vm) };
        await _invoker.InvokeAsync(Kind(nameof(VmService.VmServiceClient.DeleteVm)), o => _stub.DeleteVmAsync(request, o), cancellationToken).ConfigureAwait(false);
    }

    private static CallKind Kind(string method) => CallKinds.Of(VmService.Descriptor, method);
}
