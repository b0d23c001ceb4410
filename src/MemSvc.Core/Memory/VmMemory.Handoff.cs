using MemSvc.Core.Handoff;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Memory;

internal sealed partial class VmMemory
{
    /// <summary>The open files (by id, with <paramref name="inodeOf"/> naming each) and memslots, under <see cref="Sync"/>.</summary>
    public (IReadOnlyList<MemfdHandoffState> Memfds, ulong NextMemfdId, IReadOnlyList<RegionHandoffState> Regions) Export(Func<IGuestMemfd, ulong?> inodeOf)
    {
        var memfds = Memfds.Select(m => new MemfdHandoffState(m.Id, inodeOf(m.File) ?? throw new InvalidOperationException($"guest_memfd {m.Id} did not come with its VM"), m.CreateTime)).ToList();
        var regions = _regions.Values.Select(r => new RegionHandoffState(
            r.Slot, r.Gpa, r.Size, r.Flags, r.GuestMemfdId, r.File is null ? null : inodeOf(r.File), r.GuestMemfdOffset, r.SharedBacking, r.BackingRevoked)).ToList();
        return (memfds, _nextMemfdId, regions);
    }

    /// <summary>
    /// Takes the files and memslots of a VM handed off by another process, after the owner's quota took what they
    /// hold (<paramref name="fileOf"/> finds each file in the adopted backend VM by the inode the state names).
    /// </summary>
    public void Adopt(IReadOnlyList<MemfdHandoffState> memfds, ulong nextMemfdId, IReadOnlyList<RegionHandoffState> regions, Func<ulong, IGuestMemfd> fileOf)
    {
        foreach (var m in memfds)
        {
            var file = fileOf(m.Inode);
            _memfds.Add(m.Id, new GuestMemfdEntry(m.Id, file, m.CreateTime));
            AccountedBytes += file.Size;
        }

        foreach (var r in regions)
        {
            var entry = new RegionEntry(r.Slot, r.Gpa, r.Size, r.Flags, r.GuestMemfdId, r.FileInode is { } inode ? fileOf(inode) : null, r.GuestMemfdOffset, r.SharedBacking)
            {
                BackingRevoked = r.BackingRevoked,
            };
            _regions.Add(entry.Slot, entry);
            AccountedBytes += entry.AccountedBytes;
        }

        _nextMemfdId = nextMemfdId;
    }
}
