using System.Globalization;
using MemSvc.Core.Errors;
using MemSvc.Hypervisor;
using MemSvc.Server.Errors;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>
/// A contract guest program to the backend's, checking every step on the way: a bad step is INVALID_ARGUMENT
/// naming it (program.steps[3].write_pattern.pattern) before the vCPU is touched.
/// </summary>
internal static class GuestProgramMapping
{
    private const ulong PageSize = 4096;

    public static GuestProgram ToCore(Api.GuestProgram? program)
    {
        if (program is null)
        {
            throw CoreException.InvalidArgument(ServerReasons.FieldRequired, "program", "program is required");
        }

        if (program.Steps.Count is 0 or > GuestProgram.MaxSteps)
        {
            throw CoreException.InvalidArgument(
                ServerReasons.ValueOutOfRange, "program.steps", $"a program has 1 to {GuestProgram.MaxSteps} steps, not {program.Steps.Count}");
        }

        var steps = new List<GuestStep>(program.Steps.Count);
        for (var i = 0; i < program.Steps.Count; i++)
        {
            steps.Add(ToCore(program.Steps[i], "program.steps[" + i.ToString(CultureInfo.InvariantCulture) + "]"));
        }

        return new GuestProgram(steps);
    }

    private static GuestStep ToCore(Api.GuestStep step, string field) => step.StepCase switch
    {
        Api.GuestStep.StepOneofCase.WritePattern => new GuestStep.WritePattern(
            Range(step.WritePattern.Gpa, step.WritePattern.Length, field + ".write_pattern"),
            step.WritePattern.Length,
            Pattern(step.WritePattern.Pattern, field + ".write_pattern.pattern"),
            Intent(step.WritePattern.Intent, field + ".write_pattern.intent")),
        Api.GuestStep.StepOneofCase.CheckPattern => new GuestStep.CheckPattern(
            Range(step.CheckPattern.Gpa, step.CheckPattern.Length, field + ".check_pattern"),
            step.CheckPattern.Length,
            Pattern(step.CheckPattern.Pattern, field + ".check_pattern.pattern"),
            Intent(step.CheckPattern.Intent, field + ".check_pattern.intent")),
        Api.GuestStep.StepOneofCase.MapGpaRange => MapGpaRange(step.MapGpaRange, field + ".map_gpa_range"),
        Api.GuestStep.StepOneofCase.Report => new GuestStep.Report(step.Report.Value),
        Api.GuestStep.StepOneofCase.Halt => new GuestStep.Halt(),
        _ => throw CoreException.InvalidArgument(ServerReasons.FieldRequired, field, $"{field} sets no step"),
    };

    private static GuestStep MapGpaRange(Api.MapGpaRangeStep step, string field)
    {
        Require.Between(step.Pages, 1, ulong.MaxValue / PageSize, field + ".pages");
        Require.Range(step.Gpa, step.Pages * PageSize, field + ".gpa", field + ".pages");
        return step.ToPrivate
            ? GuestStep.MapGpaRange.ToPrivate(step.Gpa, step.Pages)
            : GuestStep.MapGpaRange.ToShared(step.Gpa, step.Pages);
    }

    private static ulong Range(ulong gpa, ulong length, string field)
    {
        Require.Range(gpa, length, field + ".gpa", field + ".length");
        return gpa;
    }

    private static byte Pattern(uint pattern, string field) => (byte)Require.Between(pattern, 0, byte.MaxValue, field);

    private static AccessIntent Intent(Api.AccessIntent intent, string field) =>
        EnumMapping.ToCore(Require.Specified(intent, field));
}
