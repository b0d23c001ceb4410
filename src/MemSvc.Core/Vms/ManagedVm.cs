using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Faults;
using MemSvc.Core.Logging;
using MemSvc.Core.Memory;
using MemSvc.Core.Telemetry;
using MemSvc.Core.Vcpus;
using MemSvc.Hypervisor;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Vms;

/// <summary>One VM as Core owns it: the backend VM, its vCPU runners, memory bookkeeping, faults and journal.</summary>
internal sealed partial class ManagedVm
{
    private VcpuRunner[] _vcpus = [];
    private volatile bool _deleted;

    public ManagedVm(VmSettings settings, IVm vm, CoreMetrics metrics, ILogger logger, int journalCapacity, TimeProvider time, GuestMemoryLedger ledger, JournalBudget journalBudget, JournalStore? journals = null)
    {
        Settings = settings;
        Time = time;
        Vm = vm;
        Metrics = metrics;
        Logger = logger;
        Journal = new EventJournal(settings.VmId, settings.Uid, journalCapacity, time, metrics, logger, journalBudget);
        if (journals?.Create(new JournalFileHeader(settings.Owner, settings.VmId, settings.Uid, journals.Options.InstanceId, settings.CreateTime)) is { } file)
        {
            Journal.AttachFile(file, journals);
        }

        Memory = new VmMemory(ledger, settings.Owner);
        Faults = new FaultCoordinator(this);
        Converter = new MemoryConverter(this);
    }

    public VmSettings Settings { get; }

    public string Id => Settings.VmId;

    /// <summary>This incarnation of the name: a VM deleted and created again under its id gets another.</summary>
    public string Uid => Settings.Uid;

    public string Owner => Settings.Owner;

    /// <summary>The VM's name in its owner's namespace: the registry's key.</summary>
    public VmKey Key => new(Id, Owner);

    public FaultPolicy FaultPolicy => Settings.FaultPolicy;

    public TimeSpan ResolutionTimeout => Settings.ResolutionTimeout;

    public FaultAction TimeoutFallback => Settings.TimeoutFallback;

    public IVm Vm { get; }

    /// <summary>The clock of event times and fault deadlines.</summary>
    public TimeProvider Time { get; }

    public CoreMetrics Metrics { get; }

    public ILogger Logger { get; }

    public EventJournal Journal { get; }

    public VmMemory Memory { get; }

    public FaultCoordinator Faults { get; }

    public MemoryConverter Converter { get; }

    public IReadOnlyList<VcpuRunner> Vcpus => _vcpus;

    public bool IsDeleted => _deleted;

    /// <summary>Creates the vCPUs (KVM_CREATE_VCPU 0..n-1); on failure disposes those made and rethrows.</summary>
    public void CreateVcpus(int count)
    {
        var runners = new List<VcpuRunner>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                runners.Add(new VcpuRunner(this, Vm.CreateVcpu(i)));
            }
        }
        catch (HypervisorException)
        {
            runners.ForEach(r => r.Dispose());
            throw;
        }

        _vcpus = [.. runners];
    }

    public VcpuRunner Vcpu(int index) =>
        index >= 0 && index < _vcpus.Length
            ? _vcpus[index]
            : throw new CoreException(ErrorKind.NotFound, ErrorReasons.VcpuNotFound, $"vm '{Id}' has no vCPU {index} (it has {_vcpus.Length})", "index", CoreErrors.Meta("index", index.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public void ThrowIfDeleted()
    {
        if (_deleted)
        {
            throw CoreErrors.VmNotFound(Id);
        }
    }

    /// <summary>Runs <paramref name="change"/> under the VM's memory lock, refusing a VM deleted in the meantime.</summary>
    internal void UnderMemoryLock(Action<ManagedVm> change)
    {
        lock (Memory.Sync)
        {
            ThrowIfDeleted();
            change(this);
        }
    }

    /// <summary>Runs <paramref name="read"/> under the VM's memory lock, refusing a VM deleted in the meantime.</summary>
    internal T UnderMemoryLock<T>(Func<ManagedVm, T> read)
    {
        lock (Memory.Sync)
        {
            ThrowIfDeleted();
            return read(this);
        }
    }

    public VmInfo ToInfo()
    {
        var running = _vcpus.Any(v => v.State is VcpuState.Running or VcpuState.Waiting);
        return new VmInfo(
            Id,
            Uid,
            Owner,
            Settings.Backend,
            Settings.VmType,
            _vcpus.Length,
            FaultPolicy,
            ResolutionTimeout,
            TimeoutFallback,
            Settings.CreateTime,
            running ? VmState.Running : VmState.Ready,
            Journal.Persist() - 1);
    }

    /// <summary>
    /// Stops every vCPU (exit request, then a bounded join), ends the watches, closes the guest_memfd files and
    /// disposes the backend VM. A vCPU thread that does not leave KVM_RUN in time is abandoned rather than waited on
    /// forever; its backend objects are then left undisposed, since freeing them under a running KVM_RUN is unsafe.
    /// </summary>
    public void Shutdown(TimeSpan stopTimeout)
    {
        _deleted = true;
        var allStopped = true;
        foreach (var vcpu in _vcpus)
        {
            allStopped &= vcpu.Stop(stopTimeout);
        }

        Faults.Clear();
        Journal.Complete();
        lock (Memory.Sync)
        {
            Memory.CloseAll();
        }

        if (!allStopped)
        {
            CoreLog.VcpuThreadAbandoned(Logger, Id, stopTimeout);
            return;
        }

        foreach (var vcpu in _vcpus)
        {
            vcpu.Dispose();
        }

        Vm.Dispose();
    }

    /// <summary>Private and shared bytes over the VM's memslots, for the memory gauge.</summary>
    public (ulong Private, ulong Shared) MemoryBytes()
    {
        ulong privateBytes = 0, total = 0;
        lock (Memory.Sync)
        {
            if (_deleted)
            {
                return (0, 0);
            }

            foreach (var region in Memory.Regions)
            {
                total += region.Size;
                foreach (var run in Vm.GetMemoryAttributes(region.Gpa, region.Size))
                {
                    if ((run.Attributes & MemoryAttributes.Private) != 0)
                    {
                        privateBytes += run.Size;
                    }
                }
            }
        }

        return (privateBytes, total - privateBytes);
    }
}

/// <summary>A VM's settings after CreateVm resolved defaults.</summary>
internal sealed record VmSettings(
    string VmId,
    string Uid,
    string Owner,
    string Backend,
    VmType VmType,
    FaultPolicy FaultPolicy,
    TimeSpan ResolutionTimeout,
    FaultAction TimeoutFallback,
    DateTimeOffset CreateTime);
