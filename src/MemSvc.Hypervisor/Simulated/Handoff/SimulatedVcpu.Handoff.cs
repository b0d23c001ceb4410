using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedVcpu
{
    /// <summary>
    /// The program loaded now (a new object at each load), for sending it ahead of a handoff's freeze. Read without
    /// the run lock, which a running step holds: a load that races with it is seen by the freeze's
    /// <see cref="Export"/>, where the program is no longer the one sent ahead and moves in full.
    /// </summary>
    public GuestProgram? LoadedProgram => Volatile.Read(ref _program);

    /// <summary>
    /// The vCPU between two runs, for a planned handoff: its program, where it is in it, and what it ended with.
    /// Taken under the run lock, so a run in progress finishes first; the caller has stopped the vCPU's thread.
    /// When the program is still <paramref name="sentAhead"/>, the state says so instead of carrying it.
    /// </summary>
    public SimulatedVcpuState Export(GuestProgram? sentAhead = null)
    {
        lock (_runLock)
        {
            var final = _final switch
            {
                null => null,
                VmExit.Halt => new FinalExitState(true, 0, default, 0, 0, 0),
                VmExit.GuestAbort a => new FinalExitState(false, a.Step, a.Reason, a.Gpa, a.Expected, a.Actual),
                _ => throw new InvalidOperationException($"vCPU {Index} ended with {_final}, which is not final"),
            };
            var ahead = _program is not null && ReferenceEquals(_program, sentAhead);
            var program = _program is null || ahead ? null : GuestStepStates.From(_program);
            return new SimulatedVcpuState(Index, program, _step, _done, final, _hypercallPending, _hypercallResult, ahead);
        }
    }

    // On a vCPU just created for the handoff, before anything runs it. A program sent ahead is <paramref name="ahead"/>.
    internal void Import(SimulatedVcpuState state, GuestProgram? ahead)
    {
        lock (_runLock)
        {
            _program = state.ProgramSentAhead
                ? ahead ?? throw Fail.Inval("handoff", $"vCPU {state.Index}: its program was to come ahead of the state, and did not", "program")
                : state.Program is null ? null : GuestStepStates.ToProgram(state.Program);
            _step = state.Step;
            _done = state.Done;
            _final = state.Final switch
            {
                null => null,
                { Halt: true } => new VmExit.Halt(),
                var a => new VmExit.GuestAbort(a.Step, a.Reason, a.Gpa, a.Expected, a.Actual),
            };
            _hypercallPending = state.HypercallPending;
            _hypercallResult = state.HypercallResult;
        }
    }
}
