using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>
/// KVM's private_mem_conversions_test (SEMANTICS.md §7) on a sw-protected VM: 4 vCPUs on their own threads
/// convert disjoint ranges of one guest_memfd bound through 2 memslots, while the host handles their
/// KVM_HC_MAP_GPA_RANGE exits with fallocate + KVM_SET_MEMORY_ATTRIBUTES and checks the shared side on the
/// SYNC_SHARED / SYNC_PRIVATE ucalls (Report steps indexing the checks the guest asked for). CV-1..CV-9.
/// </summary>
public class ConversionProtocolTests
{
    private const int Vcpus = 4;
    private const int Memslots = 2;
    private const ulong DataSize = (2 * M) + K4;            // PER_CPU_DATA_SIZE
    private const ulong PerCpuSize = 4 * M;                 // aligned up to 2 MiB
    private const ulong BaseGpa = 4 * G;
    private const ulong SlotSize = PerCpuSize * Vcpus / Memslots;

    // The selftest's own hypercall argument bits (args[2]).
    private const ulong SetAttributes = 1, Shared = 2, DoFallocate = 4;

    private static readonly (ulong Offset, ulong Size)[] TestRanges = [(0, K4), (0, 2 * M), (K4, K4), (K4, 2 * M), (2 * M, K4)];

    [Fact]
    public void CV_1_to_CV_9_four_vcpus_convert_disjoint_ranges_concurrently()
    {
        var vm = NewHypervisor().CreateSimulatedVm(VmType.SwProtected);
        vm.EnableExitHypercall(1UL << 12);
        var gmem = vm.CreateGuestMemfd(PerCpuSize * Vcpus, GuestMemfdFlags.None);
        for (var i = 0; i < Memslots; i++)
        {
            vm.SetUserMemoryRegion(new MemoryRegion((uint)(10 + i), MemoryRegionFlags.GuestMemfd, BaseGpa + (SlotSize * (ulong)i), SlotSize, SharedBacking.Anonymous, gmem, SlotSize * (ulong)i));
        }

        var failures = new string?[Vcpus];
        var threads = new Thread[Vcpus];
        using var start = new ManualResetEventSlim();
        for (var i = 0; i < Vcpus; i++)
        {
            var index = i;
            var vcpu = vm.CreateVcpu(index);
            threads[i] = new Thread(() =>
            {
                start.Wait();
                try
                {
                    RunVcpu(vm, gmem, vcpu, BaseGpa + (PerCpuSize * (ulong)index));
                }
                catch (Exception e)
                {
                    failures[index] = e.ToString();
                }
            });
            threads[i].Start();
        }

        start.Set();
        foreach (var t in threads)
        {
            t.Join();
        }

        Assert.All(failures, Assert.Null);

        // CV-9: the file survives the VM.
        vm.Dispose();
        gmem.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 0, (long)(PerCpuSize * Vcpus));
        gmem.Fallocate(FallocateMode.KeepSize, 0, (long)(PerCpuSize * Vcpus));
        gmem.Dispose();
    }

    private static void RunVcpu(SimulatedVm vm, IGuestMemfd gmem, IVcpu vcpu, ulong baseGpa)
    {
        var phases = new[]
        {
            new GuestBuilder(baseGpa).ExplicitConversion(doFallocate: false),
            new GuestBuilder(baseGpa).ExplicitConversion(doFallocate: true),
            new GuestBuilder(baseGpa).PunchHole(precise: false),
            new GuestBuilder(baseGpa).PunchHole(precise: true),
        };
        foreach (var phase in phases)
        {
            vcpu.LoadProgram(phase.Build());
            while (true)
            {
                var exit = vcpu.Run();
                if (exit is VmExit.Halt)
                {
                    break;
                }

                switch (exit)
                {
                    case VmExit.MapGpaRange map:
                        HandleMapGpaRange(vm, gmem, map);
                        vcpu.CompleteHypercall(0);
                        break;
                    case VmExit.PortIo { Port: GuestProgram.ReportPort } io:
                        phase.Syncs[(int)io.Value](vm);
                        break;
                    default:
                        throw new InvalidOperationException($"unexpected exit {exit}");
                }
            }
        }
    }

    // handle_exit_hypercall: fallocate split per memslot (punch when SHARED), then attributes, then ret = 0.
    private static void HandleMapGpaRange(SimulatedVm vm, IGuestMemfd gmem, VmExit.MapGpaRange map)
    {
        var gpa = map.Gpa;
        var size = map.Size;
        var toShared = (map.Attributes & Shared) != 0;
        if ((map.Attributes & DoFallocate) != 0)
        {
            for (var cursor = gpa; cursor < gpa + size;)
            {
                var slotIndex = (cursor - BaseGpa) / SlotSize;
                var slotGpa = BaseGpa + (slotIndex * SlotSize);
                var end = Math.Min(gpa + size, slotGpa + SlotSize);
                var offset = (SlotSize * slotIndex) + (cursor - slotGpa);
                var mode = toShared ? FallocateMode.PunchHole | FallocateMode.KeepSize : FallocateMode.KeepSize;
                gmem.Fallocate(mode, (long)offset, (long)(end - cursor));
                cursor = end;
            }
        }

        if ((map.Attributes & SetAttributes) != 0)
        {
            vm.SetMemoryAttributes(gpa, size, toShared ? MemoryAttributes.None : MemoryAttributes.Private);
        }
    }

    /// <summary>The guest side, step by step, with the host checks its ucalls ask for.</summary>
    private sealed class GuestBuilder(ulong baseGpa)
    {
        private const byte InitP = 0xcc;
        private readonly List<GuestStep> _steps = [];

        public List<Action<IVm>> Syncs { get; } = [];

        public GuestProgram Build()
        {
            _steps.Add(new GuestStep.Halt());
            return new GuestProgram(_steps);
        }

        public GuestBuilder ExplicitConversion(bool doFallocate)
        {
            const byte defP = 0xaa, p1 = 0x11, p2 = 0x22, p3 = 0x33, p4 = 0x44;
            var fallocate = doFallocate ? DoFallocate : 0;
            Memset(baseGpa, DataSize, defP);
            Memcmp(baseGpa, DataSize, defP);
            SyncShared(baseGpa, DataSize, defP, InitP);
            Memcmp(baseGpa, DataSize, InitP);
            foreach (var (offset, size) in TestRanges)
            {
                var gpa = baseGpa + offset;
                Memset(gpa, size, p1);
                MapGpa(gpa, size, SetAttributes | fallocate);
                if (size > K4)
                {
                    Memset(gpa, K4, p2, AccessIntent.Private);
                }
                else
                {
                    Memset(gpa, size, p2, AccessIntent.Private);
                    SyncPrivate(gpa, size, p1);
                    Memcmp(gpa, size, p2, AccessIntent.Private);
                    if (gpa > baseGpa)
                    {
                        Memcmp(baseGpa, gpa - baseGpa, InitP);
                    }

                    if (gpa + size < baseGpa + DataSize)
                    {
                        Memcmp(gpa + size, baseGpa + DataSize - (gpa + size), InitP);
                    }

                    for (ulong j = 0; j < size; j += K4)
                    {
                        if (((j >> 12) & 1) != 0)
                        {
                            MapGpa(gpa + j, K4, SetAttributes | Shared | fallocate);
                            SyncShared(gpa + j, K4, p1, p3);
                            Memcmp(gpa + j, K4, p3);
                        }
                        else
                        {
                            SyncPrivate(gpa + j, K4, p1);
                        }
                    }
                }

                MapGpa(gpa, size, SetAttributes | Shared | fallocate);
                Memset(gpa, size, p3);
                SyncShared(gpa, size, p3, p4);
                Memcmp(gpa, size, p4);
                Memset(gpa, size, InitP);
                MapGpa(baseGpa, DataSize, SetAttributes | Shared | DoFallocate);
            }

            return this;
        }

        public GuestBuilder PunchHole(bool precise)
        {
            MapGpa(baseGpa, DataSize, SetAttributes);
            foreach (var (offset, size) in TestRanges)
            {
                var gpa = baseGpa + offset;
                MapGpa(baseGpa, DataSize, Shared | DoFallocate);
                if (precise)
                {
                    Memset(gpa, size, InitP, AccessIntent.Private);
                    Memcmp(gpa, size, InitP, AccessIntent.Private);
                }
                else
                {
                    Memset(baseGpa, DataSize, InitP, AccessIntent.Private);
                    Memcmp(baseGpa, DataSize, InitP, AccessIntent.Private);
                }

                MapGpa(gpa, size, Shared | DoFallocate);
                Memcmp(gpa, size, 0, AccessIntent.Private);
            }

            return this;
        }

        private void Memset(ulong gpa, ulong size, byte p, AccessIntent intent = AccessIntent.Shared) =>
            _steps.Add(new GuestStep.WritePattern(gpa, size, p, intent));

        private void Memcmp(ulong gpa, ulong size, byte p, AccessIntent intent = AccessIntent.Shared) =>
            _steps.Add(new GuestStep.CheckPattern(gpa, size, p, intent));

        private void MapGpa(ulong gpa, ulong size, ulong flags) =>
            _steps.Add(new GuestStep.MapGpaRange(gpa, size / K4, flags));

        // SYNC_SHARED: the host checks the shared side holds cur, then writes new.
        private void SyncShared(ulong gpa, ulong size, byte cur, byte next) => Ucall(vm =>
        {
            var data = new byte[size];
            vm.ReadSharedMemory(gpa, data);
            AssertAll(data, cur, gpa);
            Array.Fill(data, next);
            vm.WriteSharedMemory(gpa, data);
        });

        // SYNC_PRIVATE: the host still sees the old shared data (the guest's private writes are invisible).
        private void SyncPrivate(ulong gpa, ulong size, byte pattern) => Ucall(vm =>
        {
            var data = new byte[size];
            vm.ReadSharedMemory(gpa, data);
            AssertAll(data, pattern, gpa);
        });

        private void Ucall(Action<IVm> check)
        {
            _steps.Add(new GuestStep.Report((uint)Syncs.Count));
            Syncs.Add(check);
        }

        private static void AssertAll(byte[] data, byte expected, ulong gpa)
        {
            var bad = Array.FindIndex(data, b => b != expected);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"host saw 0x{data[bad]:x2} at 0x{gpa + (ulong)bad:x}, expected 0x{expected:x2}");
            }
        }
    }
}
