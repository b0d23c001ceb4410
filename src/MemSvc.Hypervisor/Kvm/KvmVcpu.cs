using System.Runtime.CompilerServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// A vCPU of the kvm backend: a vCPU fd, its mmap'ed kvm_run, and a code area in the VM's boot memory into
/// which <see cref="LoadProgram"/> compiles guest programs. It starts in 64-bit mode at CPL3 (see
/// <see cref="LongModeState"/>) with a program that only halts.
/// </summary>
public sealed partial class KvmVcpu : IVcpu
{
    // Held for the whole of Run, LoadProgram and CompleteHypercall: they change the vCPU's registers and code.
    private readonly Lock _runGate = new();

    // Orders every write of kvm_run.immediate_exit, so that a request is never overwritten by a clear.
    private readonly Lock _requestLock = new();
    private readonly KvmVm _vm;
    private readonly VcpuFd _fd;
    private readonly MappedMemory _runPage;
    private readonly BootMemory _boot;
    private readonly int _ordinal;
    private readonly KvmSregs _startSregs;
    private bool _exitRequested;
    private int _runningThread;
    private PendingHypercall _pendingHypercall;
    private KvmRegs _exitRegs;
    private bool _completionPending;
    private bool _disposed;

    internal KvmVcpu(KvmVm vm, VcpuFd fd, int index, int ordinal, BootMemory boot, VcpuConstants constants, Handoff.KvmVcpuState? adopted = null)
    {
        _vm = vm;
        _fd = fd;
        _boot = boot;
        _ordinal = ordinal;
        Index = index;
        try
        {
            _runPage = fd.MapRun(constants.RunMmapSize);
            fd.SetCpuid2(constants.SupportedCpuid);
            _startSregs = LongModeState.Sregs(fd.GetSregs());
            _ = VcpuKicker.IsAvailable;
            if (adopted is null)
            {
                LoadCode(GuestCodeCompiler.Compile(new GuestProgram([new GuestStep.Halt()])));
            }
            else
            {
                // Handed off: its code is in the adopted boot memory already; only the registers are set again.
                Restore(adopted);
            }
        }
        catch
        {
            _runPage?.Dispose();
            fd.Dispose();
            throw;
        }
    }

    private enum PendingHypercall
    {
        None,
        Ucall,
        KvmExit,
    }

    public int Index { get; }

    public void LoadProgram(GuestProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var problem = program.Validate() ?? ReachProblem(program);
        if (problem is not null)
        {
            throw new HypervisorException(Errno.EINVAL, "LoadProgram", problem, "program");
        }

        LoadCode(GuestCodeCompiler.Compile(program));
    }

    public void CompleteHypercall(ulong result)
    {
        lock (_runGate)
        {
            ThrowIfDisposed();
            if (_pendingHypercall == PendingHypercall.None)
            {
                throw new HypervisorException(Errno.EINVAL, "CompleteHypercall", "no MapGpaRange exit is waiting for its result");
            }

            ApplyHypercallResult(result);
        }
    }

    public void RequestExit()
    {
        lock (_requestLock)
        {
            if (_disposed)
            {
                return;
            }

            _exitRequested = true;
            Volatile.Write(ref RunPage.ImmediateExit, 1);
        }

        // Pairs with the exchange in Run: either that thread sees immediate_exit on entering KVM_RUN, or this one
        // sees its thread id and the signal interrupts it.
        Interlocked.MemoryBarrier();
        VcpuKicker.Kick(Volatile.Read(ref _runningThread));
    }

    public void Dispose()
    {
        RequestExit();
        lock (_runGate)
        {
            lock (_requestLock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
            }

            _runPage.Dispose();
            _fd.Dispose();
        }
    }

    /// <summary>Puts raw machine code in this vCPU's code area and restarts it there (LoadProgram's last half).</summary>
    internal void LoadCode(ReadOnlySpan<byte> code)
    {
        lock (_runGate)
        {
            ThrowIfDisposed();
            FinishPendingExit();
            _boot.WriteCode(_ordinal, code);
            _fd.SetSregs(_startSregs);
            _fd.SetRegs(LongModeState.Regs(BootLayout.CodeGpa(_ordinal), BootLayout.StackTopGpa(_ordinal)));
            _pendingHypercall = PendingHypercall.None;
        }
    }

    private unsafe ref KvmRun RunPage
    {
        get
        {
            // Sound: the mapping is KVM_GET_VCPU_MMAP_SIZE bytes (at least sizeof(struct kvm_run)), page aligned,
            // and unmapped only by Dispose after _disposed is set under the locks every caller holds.
            return ref Unsafe.AsRef<KvmRun>((void*)_runPage.Address);
        }
    }

    private static string? ReachProblem(GuestProgram program)
    {
        for (var i = 0; i < program.Steps.Count; i++)
        {
            var range = program.Steps[i] switch
            {
                GuestStep.WritePattern w => new GpaRange(w.Gpa, w.Length),
                GuestStep.CheckPattern c => new GpaRange(c.Gpa, c.Length),
                _ => (GpaRange?)null,
            };
            if (range is not { } r)
            {
                continue;
            }

            if (r.End > BootLayout.IdentityMapLimit)
            {
                return $"step {i}: {r} reaches above 64 GiB, the highest guest-physical address the kvm backend's page tables map";
            }

            if (r.Overlaps(BootLayout.Range))
            {
                return $"step {i}: {r} overlaps the kvm backend's boot memory {BootLayout.Range}";
            }
        }

        return null;
    }

    // An exit that left an instruction half done (port I/O, MMIO, hypercall) is finished by the next KVM_RUN.
    // Before registers are replaced, run once with immediate_exit set: KVM completes it and returns at once
    // without running guest code (api.rst, "immediate_exit").
    private void FinishPendingExit()
    {
        if (!_completionPending)
        {
            return;
        }

        lock (_requestLock)
        {
            Volatile.Write(ref RunPage.ImmediateExit, 1);
        }

        _fd.Run();
        _completionPending = false;
        lock (_requestLock)
        {
            Volatile.Write(ref RunPage.ImmediateExit, (byte)(_exitRequested ? 1 : 0));
        }
    }

    private void ApplyHypercallResult(ulong result)
    {
        if (_pendingHypercall == PendingHypercall.Ucall)
        {
            SetRax(result);
        }
        else if (_pendingHypercall == PendingHypercall.KvmExit)
        {
            RunPage.Hypercall.Ret = result;
        }

        _pendingHypercall = PendingHypercall.None;
    }

    private void SetRax(ulong value)
    {
        var regs = _exitRegs;
        regs.Rax = value;
        _fd.SetRegs(regs);
        _exitRegs = regs;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new HypervisorException(Errno.EBADF, "vCPU", "the vCPU is disposed (its fd is closed)");
        }
    }
}
