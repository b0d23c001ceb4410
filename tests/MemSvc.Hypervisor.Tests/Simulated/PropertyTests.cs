using CsCheck;
using MemSvc.Hypervisor.Memory;
using MemSvc.Hypervisor.Simulated;
using static MemSvc.Hypervisor.Tests.Simulated.Sim;

namespace MemSvc.Hypervisor.Tests.Simulated;

/// <summary>Random operation sequences against <see cref="ReferenceModel"/>: attributes, data, exits and errors agree.</summary>
public class PropertyTests
{
    private static readonly Gen<(int Kind, int A, int B, byte V)[]> Ops =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, ReferenceModel.Pages - 1], Gen.Int[0, ReferenceModel.Pages - 1], Gen.Byte[1, 4]).Array[1, 40];

    [Fact]
    public void Simulated_VM_agrees_with_the_per_page_reference()
    {
        Ops.Sample(ops =>
        {
            var hv = NewHypervisor();
            using var vm = hv.CreateSimulatedVm(VmType.Snp);
            using var gmem = vm.CreateGuestMemfd(ReferenceModel.Pages * K4, GuestMemfdFlags.None);
            var vcpu = vm.CreateVcpu(0);
            var reference = new ReferenceModel();
            foreach (var (kind, a, b, v) in ops)
            {
                var (lo, hi) = (Math.Min(a, b), Math.Max(a, b) + 1);
                switch (kind)
                {
                    case 0:
                        vm.SetMemoryAttributes((ulong)lo * K4, (ulong)(hi - lo) * K4, (v & 1) != 0 ? MemoryAttributes.Private : MemoryAttributes.None);
                        reference.SetAttributes(lo, hi, (v & 1) != 0);
                        break;
                    case 1:
                        var slot = a & 1;
                        var gpa = (ulong)(slot * ReferenceModel.SlotPages) * K4;
                        var size = reference.Bound[slot] ? 0 : ReferenceModel.SlotPages * K4;
                        vm.SetUserMemoryRegion(new MemoryRegion((uint)slot, MemoryRegionFlags.GuestMemfd, gpa, size, SharedBacking.Anonymous, gmem, gpa));
                        reference.ToggleSlot(slot);
                        break;
                    case 2:
                        gmem.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, lo * (long)K4, (hi - lo) * (long)K4);
                        reference.Punch(lo, hi);
                        break;
                    case 3:
                        gmem.Fallocate(FallocateMode.KeepSize, lo * (long)K4, (hi - lo) * (long)K4);
                        break;
                    case 4 or 5:
                        GuestAccess(vcpu, reference, a, (v & 1) != 0, isWrite: kind == 4, v);
                        break;
                    default:
                        HostRead(vm, reference, a);
                        break;
                }

                AssertAttributes(vm, reference);
            }
        }, iter: 300);
    }

    [Fact]
    public void SparsePageStore_agrees_with_a_byte_array()
    {
        const int size = 5 * 4096;
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, size - 1], Gen.Int[0, size - 1], Gen.Byte).Array[1, 30].Sample(ops =>
        {
            var store = new SparsePageStore();
            var reference = new byte[size];
            foreach (var (kind, a, b, v) in ops)
            {
                var (lo, hi) = (Math.Min(a, b), Math.Max(a, b) + 1);
                if (kind == 0)
                {
                    store.Fill((ulong)lo, (ulong)(hi - lo), v);
                    Array.Fill(reference, v, lo, hi - lo);
                }
                else if (kind == 1)
                {
                    var data = Enumerable.Range(0, hi - lo).Select(i => (byte)(v + i)).ToArray();
                    store.Write((ulong)lo, data);
                    data.CopyTo(reference, lo);
                }
                else
                {
                    var found = store.TryFindMismatchInPage((ulong)lo, Math.Min(hi - lo, 4096 - (lo % 4096)), v, out var at, out var actual);
                    var expected = Array.FindIndex(reference, lo, Math.Min(hi - lo, 4096 - (lo % 4096)), x => x != v);
                    Assert.Equal(expected >= 0, found);
                    if (found)
                    {
                        Assert.Equal(((ulong)expected, reference[expected]), (at, actual));
                    }
                }
            }

            var back = new byte[size];
            store.Read(0, back);
            Assert.Equal(reference, back);
        });
    }

    private static void GuestAccess(IVcpu vcpu, ReferenceModel reference, int page, bool isPrivate, bool isWrite, byte value)
    {
        var gpa = (ulong)page * K4;
        var intent = isPrivate ? AccessIntent.Private : AccessIntent.Shared;
        var data = reference.DataFor(isPrivate);
        GuestStep step = isWrite ? Write(gpa, K4, value, intent) : Check(gpa, K4, data[page], intent);
        vcpu.LoadProgram(Program(step, new GuestStep.Halt()));
        var expected = reference.Fault(page, isPrivate, isWrite) ?? new VmExit.Halt();
        Assert.Equal(expected, vcpu.Run());
        if (isWrite && expected is VmExit.Halt)
        {
            data[page] = value;
        }
    }

    private static void HostRead(IVm vm, ReferenceModel reference, int page)
    {
        var buffer = new byte[1];
        if (reference.Bound[page / ReferenceModel.SlotPages])
        {
            vm.ReadSharedMemory((ulong)page * K4, buffer);
            Assert.Equal(reference.Shared[page], buffer[0]);
        }
        else
        {
            Assert.Equal(Errno.EFAULT, Throws(() => vm.ReadSharedMemory((ulong)page * K4, buffer)).Errno);
        }
    }

    private static void AssertAttributes(IVm vm, ReferenceModel reference)
    {
        var expected = new List<AttributeRange>();
        for (var p = 0; p < ReferenceModel.Pages; p++)
        {
            var attr = reference.Private[p] ? MemoryAttributes.Private : MemoryAttributes.None;
            if (expected.Count > 0 && expected[^1].Attributes == attr)
            {
                expected[^1] = expected[^1] with { Size = expected[^1].Size + K4 };
            }
            else
            {
                expected.Add(new AttributeRange((ulong)p * K4, K4, attr));
            }
        }

        Assert.Equal(expected, vm.GetMemoryAttributes(0, ReferenceModel.Pages * K4));
    }
}
