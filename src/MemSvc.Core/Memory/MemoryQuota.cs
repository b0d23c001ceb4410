using MemSvc.Core.Errors;
using MemSvc.Core.Vms;

namespace MemSvc.Core.Memory;

/// <summary>The per-owner guest memory quota: open guest_memfd sizes plus anonymous shared backings.</summary>
internal static class MemoryQuota
{
    public static void Check(CoreContext context, string owner, ulong adding)
    {
        if (adding == 0)
        {
            return;
        }

        var limit = context.Options.Quotas.MaxGuestMemoryBytesPerOwner;
        var held = context.Registry.GuestMemoryBytes(owner);
        if (held > limit || adding > limit - held)
        {
            throw CoreErrors.QuotaExceeded("max_guest_memory_bytes_per_owner", limit, held > ulong.MaxValue - adding ? ulong.MaxValue : held + adding);
        }
    }
}
