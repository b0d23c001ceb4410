using System.Buffers.Binary;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// The host side of the boot memslot (see <see cref="BootLayout"/>): anonymous memory holding the GDT, a TSS and
/// identity page tables, written once, and each vCPU's code area, rewritten when it loads a program.
/// </summary>
internal sealed class BootMemory : IDisposable
{
    // Page-table entry bits: present, writable, user (U/S, so CPL3 may use the page), 2 MiB page (PS).
    private const ulong Present = 1, Writable = 2, User = 4, LargePage = 0x80;

    private readonly FileDescriptor _memfd;
    private readonly MappedMemory _memory;

    // A memfd, not MAP_ANONYMOUS: the vCPUs' code and stacks (where a running guest program is) must pass to the
    // next process in a planned handoff, and only a file has a descriptor to pass.
    public BootMemory()
    {
        (_memfd, _memory) = MappedMemory.Memfd("memsvc-boot", BootLayout.Size);
        var bytes = Bytes();
        WriteGdt(bytes[(int)BootLayout.GdtOffset..]);
        WriteTss(bytes[(int)BootLayout.TssOffset..]);
        WritePageTables(bytes);
    }

    // The boot memory of a VM handed off by another process, as it was there (tables, code, stacks): its memfd
    // (owned from now on), mapped at the same address when free.
    private BootMemory(FileDescriptor memfd, ulong previousAddress)
    {
        _memfd = memfd;
        _memory = MappedMemory.OfFilePreferably(memfd, 0, BootLayout.Size, previousAddress);
    }

    /// <summary>The userspace_addr of the boot memslot.</summary>
    public nint Address => _memory.Address;

    /// <summary>The memfd behind it, for a planned handoff to pass.</summary>
    public FileDescriptor Memfd => _memfd;

    public static BootMemory Adopt(FileDescriptor memfd, ulong previousAddress) => new(memfd, previousAddress);

    /// <summary>Copies a vCPU's compiled program into its code area. The vCPU must not be running.</summary>
    public void WriteCode(int ordinal, ReadOnlySpan<byte> code)
    {
        if ((ulong)code.Length > BootLayout.CodeCapacity)
        {
            throw new HypervisorException(Errno.EINVAL, "LoadProgram", $"the compiled program has {code.Length} bytes; a vCPU's code area holds {BootLayout.CodeCapacity}");
        }

        var offset = (int)(BootLayout.CodeGpa(ordinal) - BootLayout.Base);
        code.CopyTo(Bytes()[offset..]);
    }

    public void Dispose()
    {
        _memory.Dispose();
        _memfd.Dispose();
    }

    private unsafe Span<byte> Bytes()
    {
        // Sound: the mapping is BootLayout.Size bytes of anonymous memory owned by this object and unmapped only
        // by Dispose, which the VM calls after its vCPUs and its fd are gone.
        return new Span<byte>((void*)_memory.Address, (int)BootLayout.Size);
    }

    private static void WriteGdt(Span<byte> gdt)
    {
        // Flat descriptors as the probe's guest.h builds them: 64-bit code and data at DPL 0 and DPL 3.
        ReadOnlySpan<ulong> flat = [0, 0x00af9b000000ffff, 0x00cf93000000ffff, 0x00affb000000ffff, 0x00cff3000000ffff];
        for (var i = 0; i < flat.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(gdt[(i * 8)..], flat[i]);
        }

        // A 16-byte 64-bit TSS descriptor (type 0xB, busy, present), matching the TR that KVM_SET_SREGS loads.
        const ulong tssBase = BootLayout.Base + BootLayout.TssOffset;
        const ulong limit = BootLayout.TssLimit;
        var low = (limit & 0xffff) | ((tssBase & 0xffffff) << 16) | (0xBUL << 40) | (1UL << 47) | (((tssBase >> 24) & 0xff) << 56);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[BootLayout.TssSelector..], low);
        BinaryPrimitives.WriteUInt64LittleEndian(gdt[(BootLayout.TssSelector + 8)..], tssBase >> 32);
    }

    private static void WriteTss(Span<byte> tss)
    {
        // An I/O permission bitmap that allows ports 0-0xFF (its 32 bytes stay zero; the 0xFF after them ends it).
        // IOPL=3 alone is not enough everywhere: under kvm_pvm a CPL3 `out` is checked against this bitmap whatever
        // the IOPL, and with no bitmap (a base past the limit) it is #GP, which without an IDT is a triple fault
        // (shared/kvm/field-reports/2026-12-04-kvm-pvm-without-guest-memfd.md, B1).
        BinaryPrimitives.WriteUInt16LittleEndian(tss[0x66..], 0x68);
        tss[(int)BootLayout.TssLimit] = 0xFF;
    }

    private static void WritePageTables(Span<byte> bytes)
    {
        const ulong pdptGpa = BootLayout.Base + BootLayout.PdptOffset;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[(int)BootLayout.Pml4Offset..], pdptGpa | Present | Writable | User);
        for (var gib = 0; gib < BootLayout.IdentityMappedGiB; gib++)
        {
            var pdOffset = BootLayout.PageDirectoriesOffset + ((ulong)gib * 0x1000);
            var pdptEntry = (BootLayout.Base + pdOffset) | Present | Writable | User;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[(int)(BootLayout.PdptOffset + ((ulong)gib * 8))..], pdptEntry);
            for (var page = 0; page < 512; page++)
            {
                var gpa = ((ulong)gib << 30) | ((ulong)page << 21);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[(int)(pdOffset + ((ulong)page * 8))..], gpa | Present | Writable | User | LargePage);
            }
        }
    }
}
