using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated;

/// <summary>One mmap in the model's user address space: [Start, Start + Size).</summary>
internal abstract class UserMapping(ulong start, ulong size)
{
    public ulong Start { get; } = start;

    public ulong Size { get; } = size;

    public ulong End => Start + Size;

    /// <summary>False once munmap'ed: the range may then be handed to a later mapping.</summary>
    public bool IsMapped { get; set; } = true;
}

/// <summary>MAP_ANONYMOUS|MAP_SHARED memory: zeroed, sparse, owned by the model.</summary>
internal sealed class AnonymousMapping(ulong start, ulong size) : UserMapping(start, size)
{
    public SparsePageStore Store { get; } = new();
}

/// <summary>
/// mmap(MAP_SHARED) of a guest_memfd at <see cref="FileOffset"/>. It holds a reference on the file, as an mmap
/// does in Linux: closing the fd alone does not release the file.
/// </summary>
internal sealed class GuestMemfdMapping(ulong start, ulong size, SimulatedGuestMemfd file, ulong fileOffset)
    : UserMapping(start, size)
{
    public SimulatedGuestMemfd File { get; } = file;

    public ulong FileOffset { get; } = fileOffset;
}
