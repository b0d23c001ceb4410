namespace MemSvc.Hypervisor;

/// <summary>
/// What a vCPU runs: a short list of steps. The simulated backend interprets them, applying KVM's fault rules
/// on every page they touch; the kvm backend compiles them to x86-64 code run at CPL3. The same program must
/// end in the same data and the same exits on both, apart from private intent, which a default VM lacks.
/// </summary>
public sealed record GuestProgram(IReadOnlyList<GuestStep> Steps)
{
    /// <summary>The port <see cref="GuestStep.Report"/> writes its 4-byte value to.</summary>
    public const ushort ReportPort = 0x10;

    /// <summary>Most steps a program may have (the kvm backend's code page bounds it).</summary>
    public const int MaxSteps = 256;

    /// <summary>
    /// Why the program cannot run, or null when it can: a step count over <see cref="MaxSteps"/>, an empty
    /// range, or a range whose end overflows the 64-bit address space.
    /// </summary>
    public string? Validate()
    {
        if (Steps.Count == 0)
        {
            return "a program needs at least one step";
        }

        if (Steps.Count > MaxSteps)
        {
            return $"a program has at most {MaxSteps} steps, not {Steps.Count}";
        }

        for (var i = 0; i < Steps.Count; i++)
        {
            var problem = Steps[i] switch
            {
                GuestStep.WritePattern w => CheckRange(w.Gpa, w.Length),
                GuestStep.CheckPattern c => CheckRange(c.Gpa, c.Length),
                _ => null,
            };
            if (problem is not null)
            {
                return $"step {i}: {problem}";
            }
        }

        return null;
    }

    private static string? CheckRange(ulong gpa, ulong length)
    {
        if (length == 0)
        {
            return "length must not be 0";
        }

        return gpa + length < gpa ? "gpa + length overflows 2^64" : null;
    }
}

/// <summary>Whether an access asks for private or shared memory (SNP's C-bit, TDX's shared bit).</summary>
public enum AccessIntent
{
    Shared = 0,
    Private = 1,
}

/// <summary>One step of a <see cref="GuestProgram"/>.</summary>
public abstract record GuestStep
{
    private GuestStep()
    {
    }

    /// <summary>Write <see cref="Pattern"/> to every byte of [Gpa, Gpa + Length), page by page.</summary>
    public sealed record WritePattern(ulong Gpa, ulong Length, byte Pattern, AccessIntent Intent) : GuestStep;

    /// <summary>Read [Gpa, Gpa + Length) and stop with <see cref="VmExit.GuestAbort"/> at the first byte that is not <see cref="Pattern"/>.</summary>
    public sealed record CheckPattern(ulong Gpa, ulong Length, byte Pattern, AccessIntent Intent) : GuestStep;

    /// <summary>
    /// KVM_HC_MAP_GPA_RANGE(gpa, pages, attributes): ask the host to convert. A non-zero result stops the program
    /// with <see cref="VmExit.GuestAbort"/>, as the selftests' GUEST_ASSERT(!ret) does.
    /// </summary>
    public sealed record MapGpaRange(ulong Gpa, ulong Pages, ulong Attributes) : GuestStep
    {
        public static MapGpaRange ToPrivate(ulong gpa, ulong pages) => new(gpa, pages, VmExit.MapGpaRange.Encrypted);

        public static MapGpaRange ToShared(ulong gpa, ulong pages) => new(gpa, pages, 0);
    }

    /// <summary>Write <see cref="Value"/> (4 bytes) to <see cref="GuestProgram.ReportPort"/>.</summary>
    public sealed record Report(uint Value) : GuestStep;

    /// <summary>Stop: the vCPU exits with <see cref="VmExit.Halt"/>.</summary>
    public sealed record Halt : GuestStep;
}
