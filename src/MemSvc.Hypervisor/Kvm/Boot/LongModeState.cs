namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// The register state of a vCPU that starts in 64-bit mode at CPL3, as the probe's guest.h M_U64 sets it: under
/// kvm_pvm only CPL3 code runs natively (CPL0 code goes through KVM's instruction emulator). IOPL=3 lets the
/// guest use `out`, which is how it talks to the host.
/// </summary>
internal static class LongModeState
{
    private const ulong Cr0 = 0x8005_0033; // PG | AM | WP | NE | ET | MP | PE
    private const ulong Cr4Pae = 1 << 5;
    private const ulong EferLmeLma = 0x500;
    private const ulong RflagsIopl3 = 0x3002; // IOPL=3, reserved bit 1; IF and DF clear

    /// <summary><paramref name="current"/> (from KVM_GET_SREGS) switched to flat CPL3 long mode over the boot page tables.</summary>
    public static KvmSregs Sregs(KvmSregs current)
    {
        var sregs = current;
        sregs.Gdt.Base = BootLayout.Base + BootLayout.GdtOffset;
        sregs.Gdt.Limit = (BootLayout.GdtEntries * 8) - 1;

        // No IDT: any exception becomes a triple fault (KVM_EXIT_SHUTDOWN) instead of running whatever sits at gpa 0.
        sregs.Idt.Base = 0;
        sregs.Idt.Limit = 0;

        sregs.Cs = Segment(BootLayout.UserCodeSelector, type: 0xb, db: 0, longMode: 1);
        var data = Segment(BootLayout.UserDataSelector, type: 0x3, db: 1, longMode: 0);
        sregs.Ds = data;
        sregs.Es = data;
        sregs.Fs = data;
        sregs.Gs = data;
        sregs.Ss = data;
        sregs.Tr = new KvmSegment
        {
            Base = BootLayout.Base + BootLayout.TssOffset,
            Limit = BootLayout.TssLimit,
            Selector = BootLayout.TssSelector,
            Type = 0xb,
            Present = 1,
        };

        sregs.Cr0 = Cr0;
        sregs.Cr3 = BootLayout.Base + BootLayout.Pml4Offset;
        sregs.Cr4 = Cr4Pae;
        sregs.Efer = EferLmeLma;
        return sregs;
    }

    /// <summary>General registers at the start of a program: everything zero but rip, rsp and rflags.</summary>
    public static KvmRegs Regs(ulong rip, ulong rsp) => new() { Rip = rip, Rsp = rsp, Rflags = RflagsIopl3 };

    private static KvmSegment Segment(ushort selector, byte type, byte db, byte longMode) => new()
    {
        Base = 0,
        Limit = 0xffff_ffff,
        Selector = selector,
        Type = type,
        Present = 1,
        Dpl = 3,
        Db = db,
        S = 1,
        L = longMode,
        G = 1,
    };
}
