using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.LoadDriver.Measure;

/// <summary>
/// MemSvc's side of the fault path. A vCPU (ORCHESTRATOR policy) runs a program whose every step faults
/// (alternating private and shared writes to one page); the loop watches, answers each MemoryFault with a
/// ResolveFault(CONVERT), and reads the times the server stamped on the fault and on the vCPU's return to RUNNING.
/// One VM and one watch serve every round, as one orchestrator's would.
/// </summary>
internal sealed class ResolutionLoop : IAsyncDisposable
{
    private const ulong Page = 4096;

    private readonly VmService.VmServiceClient _vms;
    private readonly VcpuService.VcpuServiceClient _vcpus;
    private readonly EventService.EventServiceClient _events;
    private readonly string _vm;
    private readonly AsyncServerStreamingCall<WatchEventsResponse> _watch;
    private readonly GuestProgram _program;

    private ResolutionLoop(GrpcChannel channel, string vm, AsyncServerStreamingCall<WatchEventsResponse> watch, GuestProgram program)
    {
        _vms = new VmService.VmServiceClient(channel);
        _vcpus = new VcpuService.VcpuServiceClient(channel);
        _events = new EventService.EventServiceClient(channel);
        _vm = vm;
        _watch = watch;
        _program = program;
    }

    public Samples Resolve { get; } = new();

    public Samples Deliver { get; } = new();

    public Samples Call { get; } = new();

    /// <summary>GetVm through the same pipeline (identity, interceptors, tracing) with next to no work behind it.</summary>
    public Samples Read { get; } = new();

    /// <summary>The size of a MemoryFault event on the wire, in bytes: the bare baselines send messages of this size.</summary>
    public int EventBytes { get; private set; }

    public static async Task<ResolutionLoop> StartAsync(GrpcChannel channel)
    {
        var vms = new VmService.VmServiceClient(channel);
        var memory = new GuestMemoryService.GuestMemoryServiceClient(channel);
        var vm = (await vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = "bench-resolve",
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Orchestrator,
        })).Vm;
        var memfd = (await memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = vm.Name, Size = 2 << 20 })).GuestMemfd;
        var region = new SetMemoryRegionRequest { Parent = vm.Name, Slot = 0, Gpa = 0, Size = 2 << 20, GuestMemfd = memfd.Name };
        region.Flags.Add(MemoryRegionFlag.GuestMemfd);
        await memory.SetMemoryRegionAsync(region);

        var program = new GuestProgram();
        for (var i = 0; i < 255; i++)
        {
            var intent = i % 2 == 0 ? AccessIntent.Private : AccessIntent.Shared;
            program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = Page, Length = Page, Pattern = (uint)i & 0xff, Intent = intent } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });

        // From the VM's next sequence, not "from now": the call reaches the server asynchronously, and a watch the
        // server opened after the first fault would miss it and leave the vCPU to its resolution timeout.
        var next = (await vms.GetVmAsync(new GetVmRequest { Name = vm.Name })).Vm.LastEventSequence + 1;
        var request = new WatchEventsRequest { Vm = vm.Name, StartSequence = next, Filter = new EventFilter { Kinds = { EventKind.MemoryFault, EventKind.VcpuStateChanged } } };
        var watch = new EventService.EventServiceClient(channel).WatchEvents(request);
        return new ResolutionLoop(channel, vm.Name, watch, program);
    }

    /// <summary>Runs whole programs until at least <paramref name="resolutions"/> faults were resolved; keeps their samples when <paramref name="record"/>.</summary>
    /// <returns>The faults resolved.</returns>
    public async Task<int> RunAsync(int resolutions, bool record)
    {
        var seen = 0;
        var vcpu = _vm + "/vcpus/0";
        while (seen < resolutions)
        {
            await _vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = vcpu, Program = _program });
            await _vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vcpu });
            seen += await ResolveUntilHaltedAsync(record).ConfigureAwait(false);
        }

        return seen;
    }

    /// <summary>GetVm calls, timed by the client.</summary>
    public async Task ReadAsync(int calls, bool record)
    {
        for (var i = 0; i < calls; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await _vms.GetVmAsync(new GetVmRequest { Name = _vm });
            if (record)
            {
                Read.AddElapsed(sent, Stopwatch.GetTimestamp());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _watch.Dispose();
        await _vms.DeleteVmAsync(new DeleteVmRequest { Name = _vm });
    }

    private async Task<int> ResolveUntilHaltedAsync(bool record)
    {
        var seen = 0;
        DateTime? faultTime = null;
        var stream = _watch.ResponseStream;
        while (await stream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            var received = DateTime.UtcNow;
            var evt = stream.Current.Event;
            if (evt.MemoryFault is { } fault)
            {
                faultTime = evt.Time.ToDateTime();
                if (EventBytes == 0)
                {
                    // Every fault event of this loop has one size: measured once, off the timed path after that.
                    EventBytes = stream.Current.CalculateSize();
                }
                var sent = Stopwatch.GetTimestamp();
                await _events.ResolveFaultAsync(new ResolveFaultRequest { Vm = _vm, FaultId = fault.FaultId, Action = FaultAction.Convert });
                if (record)
                {
                    Deliver.Add((received - faultTime.Value).TotalMicroseconds);
                    Call.AddElapsed(sent, Stopwatch.GetTimestamp());
                }
            }
            else if (evt.VcpuStateChanged is { State: VcpuState.Running } && faultTime is { } raised)
            {
                seen++;
                if (record)
                {
                    Resolve.Add((evt.Time.ToDateTime() - raised).TotalMicroseconds);
                }

                faultTime = null;
            }
            else if (evt.VcpuStateChanged is { State: VcpuState.Halted })
            {
                return seen;
            }
            else if (evt.VcpuStateChanged is { State: VcpuState.Failed } failed)
            {
                throw new InvalidOperationException($"the benchmark vCPU failed: {failed.Reason}");
            }
        }

        throw new InvalidOperationException("the watch ended before the benchmark vCPU halted");
    }
}
