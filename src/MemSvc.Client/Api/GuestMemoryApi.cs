using Google.Protobuf;
using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Api;

/// <summary>GuestMemoryService: guest_memfd files, memory regions, attributes, conversion and shared memory access.</summary>
public sealed class GuestMemoryApi
{
    private readonly GuestMemoryService.GuestMemoryServiceClient _stub;
    private readonly UnaryInvoker _invoker;

    internal GuestMemoryApi(GuestMemoryService.GuestMemoryServiceClient stub, UnaryInvoker invoker)
    {
        _stub = stub;
        _invoker = invoker;
    }

    /// <summary>
    /// KVM_CREATE_GUEST_MEMFD. Sent with a fresh request_id, so that the retries of a lost answer return the same
    /// guest_memfd instead of creating a second file.
    /// </summary>
    public async Task<GuestMemfd> CreateGuestMemfdAsync(
        string vm, ulong size, IEnumerable<GuestMemfdFlag>? flags = null, CancellationToken cancellationToken = default)
    {
        var request = new CreateGuestMemfdRequest { Parent = ResourceNames.Vm(vm), Size = size, RequestId = Guid.NewGuid().ToString() };
        request.Flags.AddRange(flags ?? []);
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.CreateGuestMemfd)), o => _stub.CreateGuestMemfdAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.GuestMemfd;
    }

    /// <summary>One guest_memfd by name (<c>vms/{vm}/guestMemfds/{id}</c>). Retried on UNAVAILABLE and DEADLINE_EXCEEDED.</summary>
    public async Task<GuestMemfd> GetGuestMemfdAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new GetGuestMemfdRequest { Name = name };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.GetGuestMemfd)), o => _stub.GetGuestMemfdAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.GuestMemfd;
    }

    /// <summary>Every guest_memfd of <paramref name="vm"/> (id or <c>vms/{vm}</c>), page after page.</summary>
    public IAsyncEnumerable<GuestMemfd> ListGuestMemfdsAsync(string vm, CancellationToken cancellationToken = default) =>
        Paging.All<GuestMemfd>(async (token, ct) =>
        {
            var request = new ListGuestMemfdsRequest { Parent = ResourceNames.Vm(vm), PageToken = token };
            var page = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.ListGuestMemfds)), o => _stub.ListGuestMemfdsAsync(request, o), ct).ConfigureAwait(false);
            return (page.GuestMemfds, page.NextPageToken);
        }, cancellationToken);

    /// <summary>Closes a guest_memfd; a NOT_FOUND on a retry counts as done (the lost first attempt deleted it).</summary>
    public Task DeleteGuestMemfdAsync(string name, CancellationToken cancellationToken = default) =>
        _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.DeleteGuestMemfd)), o => _stub.DeleteGuestMemfdAsync(new DeleteGuestMemfdRequest { Name = name }, o), cancellationToken);

    /// <summary>fallocate over [offset, offset + size) of the guest_memfd: backs the range with memory (idempotent).</summary>
    public Task AllocateGuestMemfdAsync(string name, ulong offset, ulong size, CancellationToken cancellationToken = default)
    {
        var request = new AllocateGuestMemfdRequest { Name = name, Offset = offset, Size = size };
        return _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.AllocateGuestMemfd)), o => _stub.AllocateGuestMemfdAsync(request, o), cancellationToken);
    }

    /// <summary>Punches a hole over [offset, offset + size) of the guest_memfd: frees its memory (idempotent).</summary>
    public Task DiscardGuestMemfdAsync(string name, ulong offset, ulong size, CancellationToken cancellationToken = default)
    {
        var request = new DiscardGuestMemfdRequest { Name = name, Offset = offset, Size = size };
        return _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.DiscardGuestMemfd)), o => _stub.DiscardGuestMemfdAsync(request, o), cancellationToken);
    }

    /// <summary>
    /// KVM_SET_USER_MEMORY_REGION2. Never retried: KVM refuses to modify a guest_memfd slot, so a repeat of a
    /// create that was applied fails instead of being a no-op.
    /// </summary>
    public async Task<MemoryRegion> SetMemoryRegionAsync(SetMemoryRegionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sent = request.Clone();
        sent.Parent = ResourceNames.Vm(sent.Parent);
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.SetMemoryRegion)), o => _stub.SetMemoryRegionAsync(sent, o), cancellationToken).ConfigureAwait(false);
        return response.MemoryRegion;
    }

    /// <summary>One memory region (memslot) by name (<c>vms/{vm}/memoryRegions/{slot}</c>).</summary>
    public async Task<MemoryRegion> GetMemoryRegionAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new GetMemoryRegionRequest { Name = name };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.GetMemoryRegion)), o => _stub.GetMemoryRegionAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.MemoryRegion;
    }

    /// <summary>Deletes a memory region; a NOT_FOUND on a retry counts as done.</summary>
    public Task DeleteMemoryRegionAsync(string name, CancellationToken cancellationToken = default) =>
        _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.DeleteMemoryRegion)), o => _stub.DeleteMemoryRegionAsync(new DeleteMemoryRegionRequest { Name = name }, o), cancellationToken);

    /// <summary>Every memory region of <paramref name="vm"/>, page after page.</summary>
    public IAsyncEnumerable<MemoryRegion> ListMemoryRegionsAsync(string vm, CancellationToken cancellationToken = default) =>
        Paging.All<MemoryRegion>(async (token, ct) =>
        {
            var request = new ListMemoryRegionsRequest { Parent = ResourceNames.Vm(vm), PageToken = token };
            var page = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.ListMemoryRegions)), o => _stub.ListMemoryRegionsAsync(request, o), ct).ConfigureAwait(false);
            return (page.MemoryRegions, page.NextPageToken);
        }, cancellationToken);

    /// <summary>Drops every reference to a gmem-only region's backing (its mapping and its guest_memfd, which must be closed already): the guest's next access ends in a real memory fault until the region is deleted. Never retried once it may have run.</summary>
    public async Task<MemoryRegion> RevokeMemoryRegionBackingAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new RevokeMemoryRegionBackingRequest { Name = name };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.RevokeMemoryRegionBacking)), o => _stub.RevokeMemoryRegionBackingAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.MemoryRegion;
    }

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES over [gpa, gpa + size): private, or shared (no attribute).</summary>
    public Task SetMemoryAttributesAsync(string vm, ulong gpa, ulong size, bool isPrivate, CancellationToken cancellationToken = default)
    {
        var request = new SetMemoryAttributesRequest { Vm = ResourceNames.Vm(vm), Gpa = gpa, Size = size };
        if (isPrivate)
        {
            request.Attributes.Add(MemoryAttribute.Private);
        }

        return _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.SetMemoryAttributes)), o => _stub.SetMemoryAttributesAsync(request, o), cancellationToken);
    }

    /// <summary>The attributes of [gpa, gpa + size) as maximal runs, in address order.</summary>
    public async Task<IReadOnlyList<AttributeRange>> GetMemoryAttributesAsync(string vm, ulong gpa, ulong size, CancellationToken cancellationToken = default)
    {
        var request = new GetMemoryAttributesRequest { Vm = ResourceNames.Vm(vm), Gpa = gpa, Size = size };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.GetMemoryAttributes)), o => _stub.GetMemoryAttributesAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Ranges;
    }

    /// <summary>
    /// Converts [gpa, gpa + size) as QEMU's kvm_convert_memory does; converting to what a range already is leaves
    /// the same state. Returns the sequence of the CONVERSION_APPLIED event it recorded.
    /// </summary>
    public async Task<ulong> ConvertMemoryAsync(string vm, ulong gpa, ulong size, MemoryVisibility target, CancellationToken cancellationToken = default)
    {
        var request = new ConvertMemoryRequest { Vm = ResourceNames.Vm(vm), Gpa = gpa, Size = size, Target = target };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.ConvertMemory)), o => _stub.ConvertMemoryAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.EventSequence;
    }

    /// <summary>Reads <paramref name="size"/> bytes of guest memory at <paramref name="gpa"/> (shared pages only; at most the server's transfer limit).</summary>
    public async Task<byte[]> ReadGuestMemoryAsync(string vm, ulong gpa, ulong size, CancellationToken cancellationToken = default)
    {
        var request = new ReadGuestMemoryRequest { Vm = ResourceNames.Vm(vm), Gpa = gpa, Size = size };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.ReadGuestMemory)), o => _stub.ReadGuestMemoryAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Data.ToByteArray();
    }

    /// <summary>Writes <paramref name="data"/> into guest memory at <paramref name="gpa"/>; returns the bytes written. Retried on UNAVAILABLE (the same bytes again leave the same state).</summary>
    public async Task<ulong> WriteGuestMemoryAsync(string vm, ulong gpa, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var request = new WriteGuestMemoryRequest { Vm = ResourceNames.Vm(vm), Gpa = gpa, Data = ByteString.CopyFrom(data.Span) };
        var response = await _invoker.InvokeAsync(Kind(nameof(GuestMemoryService.GuestMemoryServiceClient.WriteGuestMemory)), o => _stub.WriteGuestMemoryAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Size;
    }

    private static CallKind Kind(string method) => CallKinds.Of(GuestMemoryService.Descriptor, method);
}
