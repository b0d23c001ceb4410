using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>Guest program steps, short enough to read a program at a glance.</summary>
public static class Steps
{
    public const ulong Page = 4096;
    public const ulong MiB = 1 << 20;

    public static GuestStep Write(ulong gpa, byte pattern, AccessIntent intent, ulong length = Page) =>
        new() { WritePattern = new WritePatternStep { Gpa = gpa, Length = length, Pattern = pattern, Intent = intent } };

    public static GuestStep Check(ulong gpa, byte pattern, AccessIntent intent, ulong length = Page) =>
        new() { CheckPattern = new CheckPatternStep { Gpa = gpa, Length = length, Pattern = pattern, Intent = intent } };

    public static GuestStep Map(ulong gpa, ulong pages, bool toPrivate) =>
        new() { MapGpaRange = new MapGpaRangeStep { Gpa = gpa, Pages = pages, ToPrivate = toPrivate } };

    public static GuestStep Report(uint value) => new() { Report = new ReportStep { Value = value } };

    public static GuestStep Halt() => new() { Halt = new HaltStep() };

    public static GuestProgram Program(params GuestStep[] steps)
    {
        var program = new GuestProgram();
        program.Steps.AddRange(steps);
        return program;
    }
}
