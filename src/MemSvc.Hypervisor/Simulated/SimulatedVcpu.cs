namespace MemSvc.Hypervisor.Simulated;

/// <summary>
/// A simulated vCPU: it interprets its <see cref="GuestProgram"/> and resumes exactly where it stopped. After a
/// memory fault (or a bare EFAULT) the faulting page is retried; after an MMIO exit the access is complete (the
/// write went to the device, a read took the device's data, which the model does not check); after a hypercall
/// exit the guest gets the value of <see cref="CompleteHypercall"/>. Halt and GuestAbort are final: running again
/// returns them again, until <see cref="LoadProgram"/>. Running off the end of a program is a Halt.
/// </summary>
public sealed partial class SimulatedVcpu : IVcpu
{
    private readonly SimulatedVm _vm;
    private readonly Lock _runLock = new();
    private GuestProgram? _program;
    private int _step;
    private ulong _done;
    private VmExit? _final;
    private bool _hypercallPending;
    private ulong _hypercallResult;
    private volatile bool _exitRequested;
    private volatile bool _disposed;

    internal SimulatedVcpu(SimulatedVm vm, int index)
    {
        _vm = vm;
        Index = index;
    }

    public int Index { get; }

    /// <summary>The step the vCPU is at (for tests and diagnostics).</summary>
    public int CurrentStep => _step;

    internal bool ExitRequested => _exitRequested;

    public void LoadProgram(GuestProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var problem = program.Validate();
        if (problem is not null)
        {
            throw Fail.Inval("LoadProgram", problem, "program");
        }

        lock (_runLock)
        {
            ThrowIfUnusable("LoadProgram");
            _program = program;
            _step = 0;
            _done = 0;
            _final = null;
            _hypercallPending = false;
            _hypercallResult = 0;
        }
    }

    /// <summary>
    /// KVM_RUN. EINVAL without a program (there is no guest code to run); EBADF once the vCPU or its VM is gone;
    /// EFAULT, thrown, for a shared access whose hva is not mapped (KVM_RUN's bare EFAULT).
    /// </summary>
    public VmExit Run()
    {
        lock (_runLock)
        {
            ThrowIfUnusable("KVM_RUN");
            if (_program is null)
            {
                throw new HypervisorException(Errno.EINVAL, "KVM_RUN", "no guest program is loaded");
            }

            if (_exitRequested)
            {
                _exitRequested = false;
                return new VmExit.Interrupted();
            }

            if (_final is not null)
            {
                return _final;
            }

            if (_hypercallPending)
            {
                _hypercallPending = false;
                var map = (GuestStep.MapGpaRange)_program.Steps[_step];
                if (_hypercallResult != 0)
                {
                    return _final = new VmExit.GuestAbort(_step, GuestAbortReason.HypercallFailed, map.Gpa, 0, _hypercallResult);
                }

                Advance();
            }

            return RunSteps(_program);
        }
    }

    public void CompleteHypercall(ulong result)
    {
        lock (_runLock)
        {
            // As in kvm_run->hypercall.ret: written any time, read only when the vCPU re-enters after the exit.
            _hypercallResult = result;
        }
    }

    public void RequestExit() => _exitRequested = true;

    public void Dispose() => _disposed = true;

    private void Advance()
    {
        _step++;
        _done = 0;
    }

    private VmExit RunSteps(GuestProgram program)
    {
        while (true)
        {
            if (_exitRequested)
            {
                _exitRequested = false;
                return new VmExit.Interrupted();
            }

            if (_step >= program.Steps.Count)
            {
                return _final = new VmExit.Halt();
            }

            switch (program.Steps[_step])
            {
                case GuestStep.WritePattern w:
                    if (RunAccess(w.Gpa, w.Length, w.Pattern, w.Intent, isWrite: true) is { } writeExit)
                    {
                        return writeExit;
                    }

                    Advance();
                    break;
                case GuestStep.CheckPattern c:
                    if (RunAccess(c.Gpa, c.Length, c.Pattern, c.Intent, isWrite: false) is { } checkExit)
                    {
                        return checkExit;
                    }

                    Advance();
                    break;
                case GuestStep.MapGpaRange m:
                    return MapGpaRange(m);
                case GuestStep.Report r:
                    Advance();
                    return new VmExit.PortIo(GuestProgram.ReportPort, true, 4, r.Value);
                case GuestStep.Halt:
                    return _final = new VmExit.Halt();
            }
        }
    }

    private VmExit MapGpaRange(GuestStep.MapGpaRange m)
    {
        bool exitEnabled;
        lock (_vm.SyncRoot)
        {
            _vm.ThrowIfDisposed("KVM_RUN");
            exitEnabled = _vm.ExitOnMapGpaRange;
        }

        if (HypercallRules.ImmediateResult(exitEnabled, m.Gpa, m.Pages) is { } immediate)
        {
            // The guest sees the error in RAX and stops as the selftests' GUEST_ASSERT(!ret) does.
            return _final = new VmExit.GuestAbort(_step, GuestAbortReason.HypercallFailed, m.Gpa, 0, immediate);
        }

        _hypercallPending = true;
        _hypercallResult = 0; // hypercall.ret is pre-zeroed for every exit (HC-4).
        return new VmExit.MapGpaRange(m.Gpa, m.Pages, m.Attributes);
    }

    // Runs a WritePattern or CheckPattern from where it stopped; null when the step completed.
    private VmExit? RunAccess(ulong gpa, ulong length, byte pattern, AccessIntent intent, bool isWrite)
    {
        // The access intent. A default VM has no private memory, so every access is shared (nor could the kvm
        // backend express intent there). SNP and TDX take it from the guest's page-table bit (C-bit / shared bit):
        // the step's intent. sw-protected VMs take it from the step too, although real KVM derives their intent
        // from the attribute at fault time (MF-7): modelling the guest's wish is what lets an orchestrator test
        // implicit conversions (a private write to a shared page exits with a memory fault) without hardware.
        var isPrivate = intent == AccessIntent.Private && _vm.Type.HasPrivateMemory();
        var result = GuestInterpreter.Access(_vm, this, gpa + _done, gpa + length, pattern, isPrivate, isWrite);
        _done = result.Cursor - gpa;
        switch (result.Outcome)
        {
            case AccessOutcome.Completed:
                return null;
            case AccessOutcome.Interrupted:
                _exitRequested = false;
                return new VmExit.Interrupted();
            case AccessOutcome.MemoryFault:
                return new VmExit.MemoryFault(result.Page, KvmLimits.PageSize, isPrivate ? MemoryFaultFlags.Private : MemoryFaultFlags.None);
            case AccessOutcome.Mmio:
                return new VmExit.Mmio(result.MmioGpa, result.MmioLength, isWrite);
            case AccessOutcome.Mismatch:
                return _final = new VmExit.GuestAbort(_step, GuestAbortReason.PatternMismatch, result.MismatchGpa, pattern, result.Actual);
            default:
                throw new HypervisorException(Errno.EFAULT, "KVM_RUN", $"gpa 0x{result.Page:x}: the memslot's userspace_addr is not mapped");
        }
    }

    private void ThrowIfUnusable(string operation)
    {
        if (_disposed || _vm.IsDisposed)
        {
            throw Fail.Closed(operation, "the vCPU");
        }
    }
}
