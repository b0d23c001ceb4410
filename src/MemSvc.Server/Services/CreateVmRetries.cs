using MemSvc.Core.Errors;
using MemSvc.Core.Identity;
using MemSvc.Core.Vms;
using CreateVmRequest = MemSvc.Contracts.V1.CreateVmRequest;

namespace MemSvc.Server.Services;

/// <summary>
/// CreateVm's request_id (AIP-155): a retry of a creation that already happened returns the same VM instead of
/// a second one or ALREADY_EXISTS. Remembers the last <see cref="Capacity"/> creations per server.
/// </summary>
internal sealed class CreateVmRetries(VmManager manager)
{
    public const int Capacity = 4096;
    public const int MaxRequestIdLength = 128;
    public const string RequestIdReused = "REQUEST_ID_REUSED";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Owner, string RequestId), (CreateVmRequest Request, string VmId)> _done = [];
    private readonly Queue<(string Owner, string RequestId)> _order = new();

    public VmInfo Create(CallerIdentity caller, CreateVmRequest request, Func<VmInfo> create)
    {
        if (request.RequestId.Length == 0)
        {
            return create();
        }

        if (request.RequestId.Length > MaxRequestIdLength)
        {
            throw CoreException.InvalidArgument("VALUE_OUT_OF_RANGE", "request_id", $"request_id has at most {MaxRequestIdLength} characters");
        }

        var key = (caller.Identity, request.RequestId);

        // One lock around the check and the creation: a retry that races its original waits for it rather
        // than creating a twin. Creation is quick (no vCPU runs), so the serialization costs little.
        lock (_lock)
        {
            if (_done.TryGetValue(key, out var earlier))
            {
                return earlier.Request.Equals(request)
                    ? manager.Vms.GetVm(caller, earlier.VmId)
                    : throw CoreException.InvalidArgument(RequestIdReused, "request_id", "request_id was used before for a different CreateVm request");
            }

            var vm = create();
            _done[key] = (request.Clone(), vm.VmId);
            _order.Enqueue(key);
            if (_order.Count > Capacity)
            {
                _done.Remove(_order.Dequeue());
            }

            return vm;
        }
    }
}
