using MemSvc.Cli.Output;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Tests.Output;

/// <summary>The memory map picture, character by character, for known attribute layouts.</summary>
public sealed class MemoryMapTests
{
    private const ulong MiB = 1024 * 1024;

    private static MemoryMap.Slot Slot(uint slot, ulong gpa, ulong size, bool revoked, params (ulong Gpa, ulong Size, bool Private)[] ranges)
    {
        var region = new MemoryRegion { Name = $"vms/map/memoryRegions/{slot}", Slot = slot, Gpa = gpa, Size = size, BackingRevoked = revoked };
        var runs = ranges.Select(r =>
        {
            var range = new AttributeRange { Gpa = r.Gpa, Size = r.Size };
            if (r.Private)
            {
                range.Attributes.Add(MemoryAttribute.Private);
            }

            return range;
        }).ToList();
        return new MemoryMap.Slot(region, runs);
    }

    private static readonly IReadOnlyList<MemoryMap.Slot> Layout =
    [
        Slot(0, 0, 32 * MiB, false, (0, 16 * MiB, true), (16 * MiB, 16 * MiB, false)),
        Slot(1, 64 * MiB, 16 * MiB, false, (64 * MiB, 4096, true), ((64 * MiB) + 4096, (16 * MiB) - 4096, false)),
        Slot(2, 96 * MiB, 4 * MiB, true, (96 * MiB, 4 * MiB, false)),
    ];

    [Fact]
    public void Bands_and_ranges_of_private_shared_mixed_and_unbacked_memory()
    {
        var text = MemoryMap.Render("vms/map", Layout, width: 16, color: false);

        Assert.Equal(
            """
            memory map of vms/map: 3 memslots, 52 MiB  (# private  . shared  + mixed  ' ' unbacked)
            slot 0  0x000000000000-0x000002000000  32 MiB  |########........|
            slot 1  0x000004000000-0x000005000000  16 MiB  |+...............|
            slot 2  0x000006000000-0x000006400000   4 MiB  |                |
            ranges:
              0x000000000000-0x000001000000      16 MiB  private  slot 0
              0x000001000000-0x000002000000      16 MiB  shared   slot 0
              0x000002000000-0x000004000000      32 MiB  unbacked no memslot
              0x000004000000-0x000004001000       4 KiB  private  slot 1
              0x000004001000-0x000005000000   16380 KiB  shared   slot 1
              0x000005000000-0x000006000000      16 MiB  unbacked no memslot
              0x000006000000-0x000006400000       4 MiB  unbacked slot 2

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            text);
    }

    [Fact]
    public void Colours_mark_each_band_and_reset_after_it()
    {
        var text = MemoryMap.Render("vms/map", [Layout[0]], width: 4, color: true);

        Assert.Contains("|\u001b[45m##\u001b[0m\u001b[42m..\u001b[0m|", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vm_without_memslots_says_so()
    {
        Assert.Equal(
            "memory map of vms/empty: 0 memslots, 0 B  (# private  . shared  + mixed  ' ' unbacked)\n  no memslots\n",
            MemoryMap.Render("vms/empty", [], MemoryMap.DefaultWidth, color: false));
    }
}
