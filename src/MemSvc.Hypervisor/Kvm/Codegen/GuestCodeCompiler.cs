namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// Compiles a <see cref="GuestProgram"/> to x86-64 code that runs at CPL3 from a vCPU's code area. Every step
/// runs to completion unless an access exits (a memory fault or MMIO); KVM then re-executes the faulting
/// instruction (string instructions resume where they stopped). Private and shared intent compile to the same
/// plain accesses: a default VM has no way to express the difference.
/// </summary>
internal static class GuestCodeCompiler
{
    public static byte[] Compile(GuestProgram program)
    {
        var emitter = new X86Emitter();
        for (var i = 0; i < program.Steps.Count; i++)
        {
            switch (program.Steps[i])
            {
                case GuestStep.WritePattern w:
                    WritePattern(emitter, w);
                    break;
                case GuestStep.CheckPattern c:
                    CheckPattern(emitter, i, c);
                    break;
                case GuestStep.MapGpaRange m:
                    MapGpaRange(emitter, i, m);
                    break;
                case GuestStep.Report r:
                    emitter.MovImm32(Reg.Rax, r.Value);
                    emitter.OutEax((byte)GuestProgram.ReportPort);
                    break;
                case GuestStep.Halt:
                    Halt(emitter);
                    break;
                default:
                    throw new ArgumentException($"step {i} is a {program.Steps[i].GetType().Name}, which this backend cannot compile", nameof(program));
            }
        }

        // A program that does not end in Halt halts after its last step rather than running off its code.
        Halt(emitter);
        return emitter.ToArray();
    }

    private static void WritePattern(X86Emitter e, GuestStep.WritePattern step)
    {
        e.MovImm64(Reg.Rdi, step.Gpa);
        e.MovImm64(Reg.Rcx, step.Length);
        e.MovAlImm8(step.Pattern);
        e.RepStosb();
    }

    private static void CheckPattern(X86Emitter e, int index, GuestStep.CheckPattern step)
    {
        e.MovImm64(Reg.Rdi, step.Gpa);
        e.MovImm64(Reg.Rcx, step.Length);
        e.MovAlImm8(step.Pattern);
        e.RepeScasb();
        var matched = e.JeShortForward();

        // repe scasb stops one byte past the first mismatch.
        e.LeaRsiRdiMinus1();
        e.MovzxR8dByteAtRsi();
        e.MovImm32(Reg.Rdi, step.Pattern);
        Abort(e, index, GuestAbortReason.PatternMismatch);
        e.BindShort(matched);
    }

    private static void MapGpaRange(X86Emitter e, int index, GuestStep.MapGpaRange step)
    {
        e.MovImm64(Reg.Rbx, step.Gpa);
        e.MovImm64(Reg.Rcx, step.Pages);
        e.MovImm64(Reg.Rdx, step.Attributes);
        e.MovImm32(Reg.Rax, Ucall.MapGpaRange);
        e.OutEax((byte)Ucall.Port);
        e.TestRaxRax();
        var succeeded = e.JeShortForward();

        // GUEST_ASSERT(!ret): report the result as the actual value, 0 as the expected one, the request's gpa.
        e.MovR8Rax();
        e.MovRsiRbx();
        e.ZeroRdi();
        Abort(e, index, GuestAbortReason.HypercallFailed);
        e.BindShort(succeeded);
    }

    private static void Abort(X86Emitter e, int index, GuestAbortReason reason)
    {
        e.MovImm32(Reg.Rbx, (uint)index);
        e.MovImm32(Reg.Rcx, (uint)reason);
        e.MovImm32(Reg.Rax, Ucall.Abort);
        var loop = e.Position;
        e.OutEax((byte)Ucall.Port);
        e.JmpShortTo(loop);
    }

    private static void Halt(X86Emitter e)
    {
        e.MovImm32(Reg.Rax, Ucall.Halt);
        var loop = e.Position;
        e.OutEax((byte)Ucall.Port);
        e.JmpShortTo(loop);
    }
}
