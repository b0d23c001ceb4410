using MemSvc.Hypervisor;
using MemSvc.Server.Hosting;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// A backend whose KVM_SET_MEMORY_ATTRIBUTES and KVM_CREATE_GUEST_MEMFD block their calling thread, as a conversion
/// of 1 TiB does (16.6 s in the probe), for VMs the test chose, until the test opens the gate. The block is synchronous on purpose: a real ioctl
/// holds its thread, so whatever thread the server runs a conversion on is the thread held here.
/// </summary>
internal sealed class GatedBackend : IBackendDecorator
{
    private readonly List<GatedVm> _vms = [];
    private readonly ManualResetEventSlim _open = new(false);
    private readonly TaskCompletionSource<bool> _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set once a gated call has started; its value says whether it runs on a thread-pool thread.</summary>
    public Task<bool> Entered => _entered.Task;

    public IHypervisor Decorate(IHypervisor hypervisor) => new GatedHypervisor(hypervisor, this);

    /// <summary>The <paramref name="index"/>-th VM created (from 0): its attribute changes wait at the gate from now on.</summary>
    public void Close(int index)
    {
        lock (_vms)
        {
            _vms[index].Gated = true;
        }
    }

    public void Open() => _open.Set();

    private void Pass()
    {
        _entered.TrySetResult(Thread.CurrentThread.IsThreadPoolThread);

        // Bounded: a test that fails before opening the gate must not leave server threads blocked for ever.
        _open.Wait(TimeSpan.FromSeconds(60));
    }

    private sealed class GatedHypervisor(IHypervisor inner, GatedBackend gate) : IHypervisor
    {
        public HypervisorCapabilities Capabilities => inner.Capabilities;

        public IVm CreateVm(VmType type)
        {
            var vm = new GatedVm(inner.CreateVm(type), gate);
            lock (gate._vms)
            {
                gate._vms.Add(vm);
            }

            return vm;
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class GatedVm(IVm inner, GatedBackend gate) : IVm
    {
        public volatile bool Gated;

        public VmType Type => inner.Type;

        public VmCapabilities Capabilities => inner.Capabilities;

        public IGuestMemfd CreateGuestMemfd(ulong size, GuestMemfdFlags flags)
        {
            if (Gated)
            {
                gate.Pass();
            }

            return inner.CreateGuestMemfd(size, flags);
        }

        public void SetUserMemoryRegion(MemoryRegion region) => inner.SetUserMemoryRegion(region);

        public void SetMemoryAttributes(ulong address, ulong size, MemoryAttributes attributes, ulong flags = 0)
        {
            if (Gated)
            {
                gate.Pass();
            }

            inner.SetMemoryAttributes(address, size, attributes, flags);
        }

        public IReadOnlyList<AttributeRange> GetMemoryAttributes(ulong address, ulong size) => inner.GetMemoryAttributes(address, size);

        public void EnableExitHypercall(ulong mask) => inner.EnableExitHypercall(mask);

        public void ReadSharedMemory(ulong gpa, Span<byte> destination) => inner.ReadSharedMemory(gpa, destination);

        public void WriteSharedMemory(ulong gpa, ReadOnlySpan<byte> source) => inner.WriteSharedMemory(gpa, source);

        public void DiscardSharedMemory(ulong gpa, ulong size) => inner.DiscardSharedMemory(gpa, size);

        public void UnmapSharedBacking(uint slot) => inner.UnmapSharedBacking(slot);

        public IVcpu CreateVcpu(int index) => inner.CreateVcpu(index);

        public void Dispose() => inner.Dispose();
    }
}
