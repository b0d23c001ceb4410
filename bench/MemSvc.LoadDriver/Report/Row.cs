namespace MemSvc.LoadDriver.Report;

/// <summary>
/// One line of the table: a measured figure, the baseline measured in the same run (or why there is none), their
/// ratio, and the target with whether it was met. <see cref="Met"/> is null where there is nothing to judge.
/// <see cref="Added"/> is what MemSvc adds to the baseline in absolute terms (a latency's difference in µs), which
/// a faster machine does not shrink the way it shrinks a ratio's two sides.
/// </summary>
internal sealed record Row(string Group, string What, string Figure, string Baseline, string Ratio, string Target, bool? Met, string Added = "-")
{
    public static Row Skipped(string group, string what, string reason, string target) =>
        new(group, what, $"skipped: {reason}", "-", "-", target, null);
}
