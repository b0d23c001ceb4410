namespace MemSvc.Hypervisor.Simulated.Handoff;

/// <summary>Guest programs to and from their flattened form (<see cref="GuestStepState"/>).</summary>
public static class GuestStepStates
{
    public static IReadOnlyList<GuestStepState> From(GuestProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return [.. program.Steps.Select(From)];
    }

    /// <summary>The program, validated as LoadProgram validates it; an unknown kind or a bad step is refused.</summary>
    public static GuestProgram ToProgram(IReadOnlyList<GuestStepState> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var program = new GuestProgram([.. steps.Select(ToStep)]);
        return program.Validate() is { } problem ? throw new ArgumentException($"guest program: {problem}", nameof(steps)) : program;
    }

    private static GuestStepState From(GuestStep step) => step switch
    {
        GuestStep.WritePattern w => new("write", w.Gpa, w.Length, w.Pattern, w.Intent, 0, 0),
        GuestStep.CheckPattern c => new("check", c.Gpa, c.Length, c.Pattern, c.Intent, 0, 0),
        GuestStep.MapGpaRange m => new("map_gpa_range", m.Gpa, m.Pages, 0, default, m.Attributes, 0),
        GuestStep.Report r => new("report", 0, 0, 0, default, 0, r.Value),
        GuestStep.Halt => new("halt", 0, 0, 0, default, 0, 0),
        _ => throw new ArgumentException($"unknown guest step {step.GetType().Name}", nameof(step)),
    };

    private static GuestStep ToStep(GuestStepState s) => s.Kind switch
    {
        "write" => new GuestStep.WritePattern(s.Gpa, s.Length, s.Pattern, s.Intent),
        "check" => new GuestStep.CheckPattern(s.Gpa, s.Length, s.Pattern, s.Intent),
        "map_gpa_range" => new GuestStep.MapGpaRange(s.Gpa, s.Length, s.Attributes),
        "report" => new GuestStep.Report(s.Value),
        "halt" => new GuestStep.Halt(),
        _ => throw new ArgumentException($"unknown guest step kind '{s.Kind}'", nameof(s)),
    };
}
