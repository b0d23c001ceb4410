using MemSvc.Hypervisor.Simulated.Handoff;

namespace MemSvc.Hypervisor.Simulated;

public sealed partial class SimulatedVcpu
{
    /// <summary>
    /// The vCPU between two runs, for a planned handoff: its program, where it is in it, and what it ended with.
    /// Taken under the run lock, so a run in progress finishes first; the caller has stopped the vCPU's thread.
    /// </summary>
    public SimulatedVcpuState Export()
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
            return new SimulatedVcpuState(Index, _program is null ? null : GuestStepStates.From(_program), _step, _done, final, _hypercallPending, _hypercallResult);
        }
    }

    // On a vCPU just created for the handoff, before anything runs it.
    internal void Import(SimulatedVcpuState state)
    {
        lock (_runLock)
        {
            _program = state.Program is null ? null : GuestStepStates.ToProgram(state.Program);
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
