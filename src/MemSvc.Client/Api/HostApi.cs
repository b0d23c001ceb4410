using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Api;

/// <summary>HostService: the backends, capabilities and limits of the host.</summary>
public sealed class HostApi
{
    private readonly HostService.HostServiceClient _stub;
    private readonly UnaryInvoker _invoker;

    internal HostApi(HostService.HostServiceClient stub, UnaryInvoker invoker)
    {
        _stub = stub;
        _invoker = invoker;
    }

    /// <summary>The host's backends, capabilities and limits, and the server's version.</summary>
    public Task<GetHostInfoResponse> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _invoker.InvokeAsync(Kind(nameof(HostService.HostServiceClient.GetHostInfo)), o => _stub.GetHostInfoAsync(new GetHostInfoRequest(), o), cancellationToken);

    private static CallKind Kind(string method) => CallKinds.Of(HostService.Descriptor, method);
}
