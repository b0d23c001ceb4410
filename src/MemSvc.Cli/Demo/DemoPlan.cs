using System.Globalization;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Demo;

/// <summary>
/// The demo's layout: a 64 MiB guest_memfd behind two 32 MiB memslots, the first 16 MiB private, and per vCPU a
/// guest program that provokes each kind of fault once: a private write to a shared page, a shared write to a
/// private page, and a conversion it asks for by hypercall, then checks that its data survived.
/// </summary>
internal static class DemoPlan
{
    public const ulong MiB = 1024 * 1024;
    public const ulong GuestMemfdSize = 64 * MiB;
    public const ulong SlotSize = 32 * MiB;
    public const ulong PrivateSize = 16 * MiB;
    public const uint VcpuCount = 2;

    /// <summary>Where each vCPU's pages start: 64 KiB apart, so that their faults are independent.</summary>
    public static ulong Offset(uint vcpu) => vcpu * 0x10000UL;

    /// <summary>A shared page (above the private 16 MiB) that the guest writes privately.</summary>
    public static ulong SharedPageWrittenPrivately(uint vcpu) => PrivateSize + Offset(vcpu);

    /// <summary>A private page that the guest writes shared.</summary>
    public static ulong PrivatePageWrittenShared(uint vcpu) => 0x100000 + Offset(vcpu);

    /// <summary>A private page the guest asks to be made shared (KVM_HC_MAP_GPA_RANGE), then writes shared.</summary>
    public static ulong PageMappedShared(uint vcpu) => 0x200000 + Offset(vcpu);

    public static byte Pattern(uint vcpu, int which) => (byte)(0xa0 + (which * 0x10) + vcpu);

    public static uint ReportValue(uint vcpu) => 0x600d0 + vcpu;

    /// <summary>The program in the step language (the demo prints it, then loads the parsed form).</summary>
    public static string ProgramText(uint vcpu)
    {
        var a = Hex(SharedPageWrittenPrivately(vcpu));
        var b = Hex(PrivatePageWrittenShared(vcpu));
        var c = Hex(PageMappedShared(vcpu));
        return string.Join("; ",
            $"write {a} 4096 {Hex(Pattern(vcpu, 0))} private",
            $"write {b} 4096 {Hex(Pattern(vcpu, 1))} shared",
            $"map-shared {c} 1",
            $"write {c} 4096 {Hex(Pattern(vcpu, 2))} shared",
            $"check {a} 4096 {Hex(Pattern(vcpu, 0))} private",
            $"check {b} 4096 {Hex(Pattern(vcpu, 1))} shared",
            $"check {c} 4096 {Hex(Pattern(vcpu, 2))} shared",
            $"report {Hex(ReportValue(vcpu))}",
            "halt");
    }

    public static GuestProgram Program(uint vcpu) => GuestProgramParser.Parse(ProgramText(vcpu));

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
