namespace MemSvc.Core.Telemetry;

/// <summary>
/// Work done only so that its code is compiled before it counts (<see cref="Handoff.HandoffRehearsal"/>): in the
/// flow that began it and every thread or timer started from there, no metric is recorded and no span started, so
/// scratch VMs never appear beside the host's.
/// </summary>
internal static class Rehearsal
{
    private static readonly AsyncLocal<bool> Active = new();

    public static bool On => Active.Value;

    /// <summary>Runs <paramref name="work"/> as a rehearsal on a flow of its own: the caller's stays as it was.</summary>
    public static void Run(Func<Task> work) => Task.Run(() =>
    {
        Active.Value = true;
        return work();
    }).GetAwaiter().GetResult();
}
