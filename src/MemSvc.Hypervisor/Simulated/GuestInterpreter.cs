using MemSvc.Hypervisor.Memory;

namespace MemSvc.Hypervisor.Simulated;

internal enum AccessOutcome : byte
{
    Completed,
    Interrupted,
    MemoryFault,
    Mmio,
    Mismatch,
    Efault,
}

/// <summary>Where a pattern access stopped, and why.</summary>
internal readonly record struct AccessResult(
    AccessOutcome Outcome,
    ulong Cursor,
    ulong Page = 0,
    ulong MmioGpa = 0,
    int MmioLength = 0,
    ulong MismatchGpa = 0,
    byte Actual = 0);

/// <summary>
/// Runs the memory steps of a guest program: page by page, each page through the fault path, the data written
/// to or checked in wherever the fault path says the page lives. The VM's lock is held per batch of at most
/// 2 MiB of guest memory, so host operations interleave with long steps, and within a batch writes to
/// contiguous pages of one store are coalesced into one fill.
/// </summary>
internal static class GuestInterpreter
{
    private const ulong BatchBytes = 2UL << 20;

    public static AccessResult Access(
        SimulatedVm vm, SimulatedVcpu vcpu, ulong cursor, ulong end, byte pattern, bool isPrivate, bool isWrite)
    {
        while (cursor < end)
        {
            if (vcpu.ExitRequested)
            {
                return new AccessResult(AccessOutcome.Interrupted, cursor);
            }

            lock (vm.SyncRoot)
            {
                vm.ThrowIfDisposed("KVM_RUN");
                var batchEnd = Clamp((cursor & ~(BatchBytes - 1)) + BatchBytes, end);
                SparsePageStore? pending = null;
                ulong pendingStart = 0, pendingLength = 0;
                while (cursor < batchEnd)
                {
                    var page = KvmLimits.PageOf(cursor);
                    var chunkEnd = Clamp(page + KvmLimits.PageSize, end);
                    var outcome = FaultDecision.Decide(vm, page, isPrivate, isWrite, out var target);
                    if (outcome != FaultOutcome.Resolved)
                    {
                        pending?.Fill(pendingStart, pendingLength, pattern);
                        return outcome switch
                        {
                            // Resuming after MMIO completes the access: the run continues after this page.
                            FaultOutcome.Mmio => new AccessResult(AccessOutcome.Mmio, chunkEnd, page, cursor, (int)(chunkEnd - cursor)),
                            FaultOutcome.MemoryFault => new AccessResult(AccessOutcome.MemoryFault, cursor, page),
                            _ => new AccessResult(AccessOutcome.Efault, cursor, page),
                        };
                    }

                    var offset = target.Offset + (cursor - page);
                    var length = chunkEnd - cursor;
                    if (isWrite)
                    {
                        if (ReferenceEquals(pending, target.Store) && pendingStart + pendingLength == offset)
                        {
                            pendingLength += length;
                        }
                        else
                        {
                            pending?.Fill(pendingStart, pendingLength, pattern);
                            (pending, pendingStart, pendingLength) = (target.Store, offset, length);
                        }
                    }
                    else if (target.Store.TryFindMismatchInPage(offset, (int)length, pattern, out var at, out var actual))
                    {
                        return new AccessResult(AccessOutcome.Mismatch, cursor, page, MismatchGpa: cursor + (at - offset), Actual: actual);
                    }

                    cursor = chunkEnd;
                }

                pending?.Fill(pendingStart, pendingLength, pattern);
            }
        }

        return new AccessResult(AccessOutcome.Completed, cursor);
    }

    // min(value, end), where value may have wrapped to 0 past the top of the address space.
    private static ulong Clamp(ulong value, ulong end) => value == 0 || value > end ? end : value;
}
