using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>
/// The machine code of each guest step, byte for byte. The expected bytes were checked with
/// `objdump -D -b binary -m i386:x86-64`; the disassembly is in the comments.
/// </summary>
public class GuestCodeCompilerTests
{
    // mov eax,1; out 0xe0,eax; jmp -4 (the halt ucall, repeated forever)
    private const string HaltCode = "b801000000e7e0ebfc";

    [Fact]
    public void Write_pattern_is_rep_stosb()
    {
        // movabs rdi,0x200000; movabs rcx,0x1000; mov al,0xab; rep stosb
        AssertCode(
            "48bf0000200000000000" + "48b90010000000000000" + "b0ab" + "f3aa" + HaltCode,
            new GuestStep.WritePattern(0x200000, 0x1000, 0xab, AccessIntent.Shared));
    }

    [Fact]
    public void Private_intent_compiles_to_the_same_plain_access()
    {
        Assert.Equal(
            GuestCodeCompiler.Compile(new GuestProgram([new GuestStep.WritePattern(0x200000, 0x1000, 0xab, AccessIntent.Shared)])),
            GuestCodeCompiler.Compile(new GuestProgram([new GuestStep.WritePattern(0x200000, 0x1000, 0xab, AccessIntent.Private)])));
    }

    [Fact]
    public void Check_pattern_is_repe_scasb_with_an_abort_ucall_on_mismatch()
    {
        // movabs rdi; movabs rcx; mov al,0xab; repe scasb; je +0x20;
        // lea rsi,[rdi-1]; movzx r8d,byte [rsi]; mov edi,0xab; mov ebx,0 (step); mov ecx,1 (PatternMismatch);
        // mov eax,2 (abort); out 0xe0,eax; jmp -4
        AssertCode(
            "48bf0000200000000000" + "48b90010000000000000" + "b0ab" + "f3ae" + "7420"
            + "488d77ff" + "440fb606" + "bfab000000" + "bb00000000" + "b901000000" + "b802000000" + "e7e0" + "ebfc"
            + HaltCode,
            new GuestStep.CheckPattern(0x200000, 0x1000, 0xab, AccessIntent.Shared));
    }

    [Fact]
    public void Map_gpa_range_is_a_ucall_whose_rax_result_is_asserted_zero()
    {
        // movabs rbx,gpa; movabs rcx,pages; movabs rdx,attrs; mov eax,3; out 0xe0,eax; test rax,rax; je +0x1b;
        // mov r8,rax; mov rsi,rbx; xor edi,edi; mov ebx,0; mov ecx,2 (HypercallFailed); mov eax,2; out; jmp -4
        AssertCode(
            "48bb0000200000000000" + "48b90100000000000000" + "48ba1000000000000000" + "b803000000" + "e7e0" + "4885c0" + "741b"
            + "4989c0" + "4889de" + "31ff" + "bb00000000" + "b902000000" + "b802000000" + "e7e0" + "ebfc"
            + HaltCode,
            GuestStep.MapGpaRange.ToPrivate(0x200000, 1));
    }

    [Fact]
    public void Report_is_a_4_byte_out_to_the_report_port()
    {
        // mov eax,0xdeadbeef; out 0x10,eax
        AssertCode("b8efbeadde" + "e710" + HaltCode, new GuestStep.Report(0xdeadbeef));
    }

    [Fact]
    public void Halt_is_a_repeated_ucall_and_every_program_ends_with_one()
    {
        AssertCode(HaltCode + HaltCode, new GuestStep.Halt());
    }

    [Fact]
    public void The_largest_program_fits_a_vcpu_code_area()
    {
        var steps = Enumerable.Range(0, GuestProgram.MaxSteps).Select(_ => (GuestStep)GuestStep.MapGpaRange.ToShared(0, 1)).ToList();
        var code = GuestCodeCompiler.Compile(new GuestProgram(steps));
        Assert.Equal((69 * GuestProgram.MaxSteps) + 9, code.Length);
        Assert.True((ulong)code.Length <= BootLayout.CodeCapacity);
    }

    private static void AssertCode(string expectedHex, params GuestStep[] steps) =>
        Assert.Equal(expectedHex, Convert.ToHexStringLower(GuestCodeCompiler.Compile(new GuestProgram(steps))));
}
