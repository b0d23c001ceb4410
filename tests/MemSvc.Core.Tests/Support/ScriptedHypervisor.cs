using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;

namespace MemSvc.Core.Tests.Support;

/// <summary>
/// A hypervisor whose vCPUs return exits a test scripts, and block in Run until the test adds more or asks them
/// to exit: for forcing exit sequences Core must handle (pauses, KVM errors, MMIO) at a moment the test picks.
/// Memory operations go to a real simulated VM.
/// </summary>
internal sealed class ScriptedHypervisor : IHypervisor
{
    private readonly SimulatedHypervisor _simulated = new();

    public List<ScriptedVcpu> Vcpus { get; } = [];

    public HypervisorCapabilities Capabilities => _simulated.Capabilities with { Backend = "scripted" };

    public IVm CreateVm(VmType type) => new ScriptedVm(_simulated.CreateVm(type), this);

    public void Dispose() => _simulated.Dispose();

    private sealed class ScriptedVm(IVm inner, ScriptedHypervisor owner) : IVm
    {
        public VmType Type => inner.Type;

        public VmCapabilities Capabilities => inner.Capabilities;

        public IGuestMemfd CreateGuestMemfd(ulong size, GuestMemfdFlags flags) => inner.CreateGuestMemfd(size, flags);

        public void SetUserMemoryRegion(MemoryRegion region) => inner.SetUserMemoryRegion(region);

        public void SetMemoryAttributes(ulong address, ulong size, MemoryAttributes attributes, ulong flags = 0) => inner.SetMemoryAttributes(address, size, attributes, flags);

        public IReadOnlyList<AttributeRange> GetMemoryAttributes(ulong address, ulong size) => inner.GetMemoryAttributes(address, size);

        public void EnableExitHypercall(ulong mask) => inner.EnableExitHypercall(mask);

        public void ReadSharedMemory(ulong gpa, Span<byte> destination) => inner.ReadSharedMemory(gpa, destination);

        public void WriteSharedMemory(ulong gpa, ReadOnlySpan<byte> source) => inner.WriteSharedMemory(gpa, source);

        public void DiscardSharedMemory(ulong gpa, ulong size) => inner.DiscardSharedMemory(gpa, size);

        public void UnmapSharedBacking(uint slot) => inner.UnmapSharedBacking(slot);

        public IVcpu CreateVcpu(int index)
        {
            var vcpu = new ScriptedVcpu(index);
            lock (owner.Vcpus)
            {
                owner.Vcpus.Add(vcpu);
            }

            return vcpu;
        }

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>A vCPU that returns (or throws) scripted exits in order, blocking when the script is empty.</summary>
internal sealed class ScriptedVcpu(int index) : IVcpu
{
    private readonly object _lock = new();
    private readonly Queue<Func<VmExit>> _script = new();
    private bool _exitRequested;

    public int Index { get; } = index;

    public bool Disposed { get; private set; }

    public List<ulong> HypercallResults { get; } = [];

    public void Then(VmExit exit) => Then(() => exit);

    public void Then(Func<VmExit> exit)
    {
        lock (_lock)
        {
            _script.Enqueue(exit);
            Monitor.PulseAll(_lock);
        }
    }

    public void LoadProgram(GuestProgram program)
    {
    }

    public VmExit Run()
    {
        Func<VmExit> next;
        lock (_lock)
        {
            while (!_exitRequested && _script.Count == 0)
            {
                Monitor.Wait(_lock);
            }

            if (_exitRequested)
            {
                _exitRequested = false;
                return new VmExit.Interrupted();
            }

            next = _script.Dequeue();
        }

        return next();
    }

    public void CompleteHypercall(ulong result)
    {
        lock (_lock)
        {
            HypercallResults.Add(result);
        }
    }

    public void RequestExit()
    {
        lock (_lock)
        {
            _exitRequested = true;
            Monitor.PulseAll(_lock);
        }
    }

    public void Dispose() => Disposed = true;
}
