using System.Runtime.CompilerServices;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>The run loop: KVM_RUN and the mapping of every exit to a <see cref="VmExit"/>.</summary>
public sealed partial class KvmVcpu
{
    // -KVM_ENOSYS and -KVM_EINVAL as KVM puts them in rax for a hypercall it does not forward (kvm_para.h).
    private const ulong HypercallNotForwarded = unchecked((ulong)-1000L);
    private const ulong HypercallInvalid = unchecked((ulong)-22L);

    public VmExit Run()
    {
        lock (_runGate)
        {
            ThrowIfDisposed();
            if (_pendingHypercall != PendingHypercall.None)
            {
                // Not answered: the guest sees 0, like KVM's pre-zeroed hypercall.ret.
                ApplyHypercallResult(0);
            }

            Interlocked.Exchange(ref _runningThread, VcpuKicker.CurrentThreadId);
            try
            {
                return RunUntilExit();
            }
            finally
            {
                Interlocked.Exchange(ref _runningThread, 0);
            }
        }
    }

    private VmExit RunUntilExit()
    {
        while (true)
        {
            // exit_reason is only meaningful when KVM sets it: clear it so a stale value is never read.
            RunPage.ExitReason = KvmExitReason.Unknown;
            var errno = _fd.Run();
            _completionPending = false;
            var exit = errno == 0 ? Decode() : FailedRun(errno);
            if (exit is not null)
            {
                return exit;
            }
        }
    }

    private VmExit FailedRun(int errno)
    {
        if ((Errno)errno == Errno.EINTR)
        {
            return Interrupted();
        }

        // KVM_EXIT_MEMORY_FAULT is valid only with EFAULT or EHWPOISON (api.rst); with any other errno the
        // exit_reason is stale.
        if (((Errno)errno is Errno.EFAULT or Errno.EHWPOISON) && RunPage.ExitReason == KvmExitReason.MemoryFault)
        {
            var fault = RunPage.MemoryFault;
            return new VmExit.MemoryFault(fault.Gpa, fault.Size, (MemoryFaultFlags)fault.Flags);
        }

        throw KvmErrors.FromErrno(errno, "KVM_RUN", $"KVM_RUN failed (exit_reason {RunPage.ExitReason})");
    }

    // null: the exit was handled here and the guest runs on.
    private VmExit? Decode()
    {
        ref var run = ref RunPage;
        switch (run.ExitReason)
        {
            case KvmExitReason.Io:
                _completionPending = true;
                var io = run.Io;
                var isWrite = io.Direction == KvmExitReason.IoDirectionOut;
                var value = isWrite ? ReadIoData(io) : 0;
                if (io.Port == Ucall.Port && isWrite && io.Size == 4)
                {
                    return HandleUcall(value);
                }

                return new VmExit.PortIo(io.Port, isWrite, io.Size, value);
            case KvmExitReason.Mmio:
                _completionPending = true;
                if (run.Mmio.IsWrite == 0)
                {
                    // A read of memory no slot serves reads zeros.
                    ClearMmioData();
                }

                return new VmExit.Mmio(run.Mmio.PhysAddr, (int)run.Mmio.Len, run.Mmio.IsWrite != 0);
            case KvmExitReason.Hypercall when run.Hypercall.Nr == KvmExitReason.HcMapGpaRange:
                _completionPending = true;
                _pendingHypercall = PendingHypercall.KvmExit;
                var (gpa, pages, attributes) = HypercallArgs();
                return new VmExit.MapGpaRange(gpa, pages, attributes);
            case KvmExitReason.Hlt:
                return new VmExit.Halt();
            case KvmExitReason.Shutdown:
                return new VmExit.Shutdown();
            case KvmExitReason.Intr:
                return Interrupted();
            case KvmExitReason.InternalError:
                return new VmExit.InternalError(run.Internal.Suberror, InternalErrorText());
            case KvmExitReason.FailEntry:
                return new VmExit.InternalError(0, $"KVM_EXIT_FAIL_ENTRY: hardware_entry_failure_reason 0x{run.FailEntry.HardwareEntryFailureReason:x} on cpu {run.FailEntry.Cpu}");
            default:
                return new VmExit.InternalError(0, $"KVM_RUN returned exit_reason {run.ExitReason}, which the kvm backend does not handle");
        }
    }

    private VmExit? HandleUcall(uint code)
    {
        _exitRegs = _fd.GetRegs();
        var regs = _exitRegs;
        switch (code)
        {
            case Ucall.Halt:
                return new VmExit.Halt();
            case Ucall.Abort:
                return new VmExit.GuestAbort((int)regs.Rbx, (GuestAbortReason)regs.Rcx, regs.Rsi, regs.Rdi, regs.R8);
            case Ucall.MapGpaRange:
                return MapGpaRange(regs.Rbx, regs.Rcx, regs.Rdx);
            default:
                return new VmExit.InternalError(0, $"the guest sent unknown ucall {code}");
        }
    }

    // What __kvm_emulate_hypercall does for KVM_HC_MAP_GPA_RANGE: -KVM_ENOSYS unless userspace asked for the
    // exit, -KVM_EINVAL for an unaligned gpa, no pages or a wrapping range; otherwise the exit.
    private VmExit? MapGpaRange(ulong gpa, ulong pages, ulong attributes)
    {
        if (!_vm.MapGpaRangeExits)
        {
            SetRax(HypercallNotForwarded);
            return null;
        }

        var gfn = gpa >> 12;
        if ((gpa & 0xfff) != 0 || pages == 0 || gfn + pages <= gfn)
        {
            SetRax(HypercallInvalid);
            return null;
        }

        _pendingHypercall = PendingHypercall.Ucall;
        return new VmExit.MapGpaRange(gpa, pages, attributes);
    }

    private VmExit.Interrupted Interrupted()
    {
        lock (_requestLock)
        {
            _exitRequested = false;
            Volatile.Write(ref RunPage.ImmediateExit, 0);
        }

        return new VmExit.Interrupted();
    }

    private unsafe uint ReadIoData(KvmRunIo io)
    {
        if (io.DataOffset + io.Size > _runPage.Length || io.Size is not (1 or 2 or 4))
        {
            return 0;
        }

        // Sound: the data lies inside the kvm_run mapping (checked just above), which stays mapped during Run.
        var data = (byte*)_runPage.Address + io.DataOffset;
        return io.Size switch
        {
            1 => *data,
            2 => Unsafe.ReadUnaligned<ushort>(data),
            _ => Unsafe.ReadUnaligned<uint>(data),
        };
    }

    private unsafe void ClearMmioData()
    {
        // Sound: kvm_run.mmio.data is 8 bytes at offset 40 of the mapped kvm_run.
        Unsafe.WriteUnaligned<ulong>((byte*)_runPage.Address + KvmRun.ExitUnionOffset + 8, 0);
    }

    private unsafe (ulong Gpa, ulong Pages, ulong Attributes) HypercallArgs()
    {
        // Sound: kvm_run.hypercall.args are six u64 at offset 40 of the mapped kvm_run.
        var args = (ulong*)((byte*)_runPage.Address + KvmRun.ExitUnionOffset + 8);
        return (args[0], args[1], args[2]);
    }

    private unsafe string InternalErrorText()
    {
        // Sound: kvm_run.internal holds ndata (at most 16) u64 at offset 40 of the mapped kvm_run.
        var count = Math.Min(RunPage.Internal.Ndata, 16u);
        var data = (ulong*)((byte*)_runPage.Address + KvmRun.ExitUnionOffset + 8);
        var values = new List<string>();
        for (var i = 0; i < count; i++)
        {
            values.Add($"0x{data[i]:x}");
        }

        return $"KVM_EXIT_INTERNAL_ERROR suberror {RunPage.Internal.Suberror}, data [{string.Join(", ", values)}]";
    }
}
