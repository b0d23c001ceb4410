using MemSvc.Core.Errors;
using MemSvc.Core.Options;

namespace MemSvc.Core.Memory;

/// <summary>
/// The guest memory every VM holds, by owner and in all: open guest_memfd sizes plus anonymous shared backings,
/// and the count of open guest_memfds. A creation reserves here first, atomically against the owner's quotas and
/// the host-wide cap, and releases what the backend then refused; so concurrent creations can never overshoot, and
/// no check has to take other VMs' locks (a long conversion holds one for seconds).
/// </summary>
internal sealed class GuestMemoryLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (ulong Bytes, int Memfds)> _byOwner = new(StringComparer.Ordinal);
    private readonly QuotaOptions _quotas;
    private readonly ulong? _hostCap;
    private ulong _total;

    public GuestMemoryLedger(QuotaOptions quotas, ulong? hostCap)
    {
        _quotas = quotas;
        _hostCap = hostCap;
    }

    /// <summary>The host-wide cap in bytes, or null when there is none.</summary>
    public ulong? HostCap => _hostCap;

    /// <summary>Guest memory all owners hold now, in bytes.</summary>
    public ulong InUse
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>
    /// Counts <paramref name="bytes"/> and <paramref name="memfds"/> against <paramref name="owner"/>, or throws
    /// RESOURCE_EXHAUSTED with nothing counted: QUOTA_EXCEEDED (max_guest_memory_bytes_per_owner,
    /// max_guest_memfds_per_owner) or HOST_MEMORY_EXHAUSTED (metadata limit, requested, in_use).
    /// </summary>
    public void Reserve(string owner, ulong bytes, int memfds)
    {
        lock (_lock)
        {
            var held = _byOwner.GetValueOrDefault(owner);
            var limit = _quotas.MaxGuestMemoryBytesPerOwner;
            if (bytes > 0 && (held.Bytes > limit || bytes > limit - held.Bytes))
            {
                throw CoreErrors.QuotaExceeded("max_guest_memory_bytes_per_owner", limit, Sum(held.Bytes, bytes));
            }

            var memfdLimit = _quotas.MaxGuestMemfdsPerOwner;
            if (memfds > 0 && held.Memfds + memfds > memfdLimit)
            {
                throw CoreErrors.QuotaExceeded("max_guest_memfds_per_owner", (ulong)memfdLimit, (ulong)(held.Memfds + memfds));
            }

            if (bytes > 0 && _hostCap is { } cap && (_total > cap || bytes > cap - _total))
            {
                throw CoreErrors.HostMemoryExhausted(cap, Sum(_total, bytes), _total);
            }

            _byOwner[owner] = (held.Bytes + bytes, held.Memfds + memfds);
            _total += bytes;
        }
    }

    /// <summary>Gives back what <see cref="Reserve"/> counted (a closed file, a deleted region, a refused creation).</summary>
    public void Release(string owner, ulong bytes, int memfds)
    {
        if (bytes == 0 && memfds == 0)
        {
            return;
        }

        lock (_lock)
        {
            var held = _byOwner.GetValueOrDefault(owner);
            var left = (held.Bytes - bytes, held.Memfds - memfds);
            if (left == (0UL, 0))
            {
                _byOwner.Remove(owner);
            }
            else
            {
                _byOwner[owner] = left;
            }

            _total -= bytes;
        }
    }

    /// <summary>What <paramref name="owner"/> holds now: bytes and open guest_memfds.</summary>
    public (ulong Bytes, int Memfds) Held(string owner)
    {
        lock (_lock)
        {
            return _byOwner.GetValueOrDefault(owner);
        }
    }

    private static ulong Sum(ulong a, ulong b) => a > ulong.MaxValue - b ? ulong.MaxValue : a + b;
}
