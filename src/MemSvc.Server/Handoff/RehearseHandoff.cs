using MemSvc.Core.Handoff;
using MemSvc.Server.Services;

namespace MemSvc.Server.Handoff;

/// <summary>
/// Runs <see cref="HandoffRehearsal"/>, and the server's own parts (the request_id ledger's JSON,
/// <see cref="RequestIds.Rehearse"/>, and the descriptor frames, <see cref="HandoffDescriptors.Rehearse"/>), until
/// the JIT is done with that code (it is the code that runs while the old process's vCPUs are frozen): in a new
/// process before its hello, and in a running server on its first handoff's hello, while its VMs still run; never at
/// start, where most servers never hand off. A failed rehearsal is logged and the handoff still goes ahead: it only
/// costs the real one compiled code.
/// </summary>
internal static class RehearseHandoff
{
    // Quiet long enough that the tier-1 recompiles, which follow the 30th call after a 100 ms delay, are done.
    private static readonly TimeSpan CompiledWhenQuietFor = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan AtMost = TimeSpan.FromSeconds(3);

    // Set once a play until compiled has run in this process: a process that took over has it, and hands off later
    // with that code compiled.
    private static bool _compiled;

    /// <summary>
    /// Plays until the JIT is done with the handoff's code, the first time in this process; later calls return at
    /// once. A new process calls it before its hello; a server that did not start by taking over calls it on its
    /// first handoff's hello, while its VMs still run.
    /// </summary>
    public static void UntilCompiled(ILogger logger)
    {
        if (_compiled)
        {
            return;
        }

        _compiled = true;
        Try(logger, () => HandoffRehearsal.RunUntilCompiled(CompiledWhenQuietFor, AtMost, ServerParts));
    }

    private static void ServerParts()
    {
        RequestIds.Rehearse();
        HandoffDescriptors.Rehearse();
    }

    private static void Try(ILogger logger, Func<(int Plays, TimeSpan Took)> rehearse)
    {
        try
        {
            var (plays, took) = rehearse();
            ServerLog.HandoffRehearsed(logger, plays, took.TotalMilliseconds);
        }
#pragma warning disable CA1031 // Any failure of the scratch VM's play is a bug to report, never a reason to refuse a handoff.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            ServerLog.HandoffRehearsalFailed(logger, e.Message);
        }
    }
}
