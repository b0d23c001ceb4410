using MemSvc.Core.Errors;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

/// <summary>
/// Core's bookkeeping of one VM's guest_memfd files and memslots. Every read or change of it, and every backend
/// call that must agree with it (conversions, guest memory reads), happens under <see cref="Sync"/>; the table
/// changes only after the backend accepted the change, so a refused call leaves it as it was. What it holds was
/// reserved in the <see cref="GuestMemoryLedger"/> before the backend call; closing or removing gives it back.
/// </summary>
internal sealed partial class VmMemory(GuestMemoryLedger ledger, string owner)
{
    private readonly Dictionary<ulong, GuestMemfdEntry> _memfds = [];
    private readonly SortedDictionary<uint, RegionEntry> _regions = [];
    private ulong _nextMemfdId = 1;

    public Lock Sync { get; } = new();

    /// <summary>Bytes counted against the owner's guest memory quota: open guest_memfd files plus anonymous backings.</summary>
    public ulong AccountedBytes { get; private set; }

    public IEnumerable<GuestMemfdEntry> Memfds => _memfds.Values.OrderBy(m => m.Id);

    public IEnumerable<RegionEntry> Regions => _regions.Values;

    public int RegionCount => _regions.Count;

    public GuestMemfdEntry AddMemfd(IGuestMemfd file, DateTimeOffset createTime)
    {
        var entry = new GuestMemfdEntry(_nextMemfdId++, file, createTime);
        _memfds.Add(entry.Id, entry);
        AccountedBytes += file.Size;
        return entry;
    }

    public GuestMemfdEntry GetMemfd(ulong id, string field = "guest_memfd_id") =>
        _memfds.TryGetValue(id, out var entry)
            ? entry
            : throw new CoreException(ErrorKind.NotFound, ErrorReasons.GuestMemfdNotFound, $"guest_memfd {id} not found", field, CoreErrors.Meta("guest_memfd_id", CoreErrors.Dec(id)));

    /// <summary>Forgets and closes the file; memslots bound to it stay, as in KVM.</summary>
    public void RemoveMemfd(GuestMemfdEntry entry)
    {
        _memfds.Remove(entry.Id);
        AccountedBytes -= entry.File.Size;
        ledger.Release(owner, entry.File.Size, 1);
        entry.File.Dispose();
    }

    public bool HasRegion(uint slot) => _regions.ContainsKey(slot);

    public RegionEntry GetRegion(uint slot) =>
        _regions.TryGetValue(slot, out var entry)
            ? entry
            : throw new CoreException(ErrorKind.NotFound, ErrorReasons.MemoryRegionNotFound, $"memory region {slot} not found", "slot", CoreErrors.Meta("slot", CoreErrors.Dec(slot)));

    public void AddRegion(RegionEntry entry)
    {
        _regions.Add(entry.Slot, entry);
        AccountedBytes += entry.AccountedBytes;
    }

    public void RemoveRegion(RegionEntry entry)
    {
        _regions.Remove(entry.Slot);
        AccountedBytes -= entry.AccountedBytes;
        ledger.Release(owner, entry.AccountedBytes, 0);
    }

    /// <summary>Closes every file still open and gives back everything held (the VM is going away).</summary>
    public void CloseAll()
    {
        ledger.Release(owner, AccountedBytes, _memfds.Count);
        foreach (var entry in _memfds.Values)
        {
            entry.File.Dispose();
        }

        _memfds.Clear();
        _regions.Clear();
        AccountedBytes = 0;
    }

    /// <summary>
    /// The parts of [gpa, gpa + size) that memslots with a guest_memfd cover, in address order, or null when some
    /// byte is not covered (the range cannot be private).
    /// </summary>
    public List<(RegionEntry Region, ulong Start, ulong Size)>? PrivateCapablePortions(ulong gpa, ulong size)
    {
        var portions = new List<(RegionEntry, ulong, ulong)>();
        var cursor = gpa;
        var end = gpa + size;
        foreach (var region in _regions.Values.Where(r => r.GuestMemfdId != 0).OrderBy(r => r.Gpa))
        {
            if (region.End <= cursor || region.Gpa >= end)
            {
                continue;
            }

            if (region.Gpa > cursor)
            {
                return null;
            }

            var portionEnd = Math.Min(region.End, end);
            portions.Add((region, cursor, portionEnd - cursor));
            cursor = portionEnd;
            if (cursor == end)
            {
                return portions;
            }
        }

        return null;
    }
}

internal sealed record GuestMemfdEntry(ulong Id, IGuestMemfd File, DateTimeOffset CreateTime)
{
    public GuestMemfdInfo ToInfo(string vmId) => new(vmId, Id, File.Size, File.Flags, CreateTime);
}

/// <summary>A memslot as Core bound it. <see cref="File"/> is the guest_memfd it was bound to, possibly closed since.</summary>
internal sealed record RegionEntry(
    uint Slot,
    ulong Gpa,
    ulong Size,
    MemoryRegionFlags Flags,
    ulong GuestMemfdId,
    IGuestMemfd? File,
    ulong GuestMemfdOffset,
    SharedBackingKind SharedBacking)
{
    public bool BackingRevoked { get; set; }

    public ulong End => Gpa + Size;

    public ulong AccountedBytes => SharedBacking == SharedBackingKind.Anonymous ? Size : 0;

    public MemoryRegionInfo ToInfo(string vmId) =>
        new(vmId, Slot, Gpa, Size, Flags, GuestMemfdId, GuestMemfdOffset, SharedBacking, BackingRevoked);
}
