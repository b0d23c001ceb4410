using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Logging;
using MemSvc.Core.Memory;
using MemSvc.Core.Tests.Support;
using MemSvc.Core.Vcpus;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using Microsoft.Extensions.Logging;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Logging;

/// <summary>
/// What Core logs through a host's logger factory: the event ids, levels and structured values an operator's
/// queries and alerts key on, for the fault flow, the timeout fallback and backend errors.
/// </summary>
public class CoreLogTests
{
    private const ulong Gpa = 0x1_0000_0000;
    private const ulong Page = Gpa + K4;

    [Fact]
    public async Task A_fault_resolved_by_converting_logs_creation_start_fault_conversion_resolution_stop_and_deletion()
    {
        var capture = new LogCapture();
        using var factory = capture.Factory(LogLevel.Debug);
        await using var manager = Manager(loggerFactory: factory);
        SetUp(manager, "logged", FaultPolicy.Orchestrator, TimeSpan.FromHours(1), FaultAction.Fail);

        var resolver = Until(manager.Events.WatchEvents(Alice, "logged", 1, cancellationToken: Ct), events =>
        {
            if (events[^1].Payload is EventPayload.MemoryFault fault)
            {
                manager.Events.ResolveFault(Alice, "logged", fault.FaultId, FaultAction.Convert);
            }

            return AllFinished(events, 1);
        });
        manager.Vcpus.StartVcpu(Alice, "logged", 0);
        await resolver;
        // Deleting joins the vCPU thread, so its last line (written after HALTED is journaled) is in.
        manager.Vms.DeleteVm(Alice, "logged");

        var logs = capture.Of("logged");
        Assert.Equal([1000, 1010, 1020, 1030, 1021, 1011, 1001], logs.Select(l => l.EventId));
        Assert.Equal(
            [LogLevel.Information, LogLevel.Information, LogLevel.Debug, LogLevel.Debug, LogLevel.Debug, LogLevel.Information, LogLevel.Information],
            logs.Select(l => l.Level));
        Assert.All(logs, l => Assert.Equal(CoreLog.Category, l.Category));
        var (created, started, raised, converted, resolved, stopped, deleted) = (logs[0], logs[1], logs[2], logs[3], logs[4], logs[5], logs[6]);
        Assert.Equal(("alice", "simulated", VmType.SwProtected, 1, FaultPolicy.Orchestrator), (created["Owner"], created["Backend"], created["VmType"], created["VcpuCount"], created["FaultPolicy"]));
        Assert.Equal((0, false), (started["Vcpu"], started["Resumed"]));
        Assert.Equal((0, 1UL, "memory fault", Page, K4, "private"), (raised["Vcpu"], raised["FaultId"], raised["Kind"], raised["Gpa"], raised["Size"], raised["Direction"]));
        Assert.Equal("VM logged vCPU 0: fault 1 raised: memory fault at gpa 0x100001000, 4096 bytes, to private", raised.Message);
        Assert.Equal((Page, K4, "private", ConversionInitiator.Orchestrator, 1UL), (converted["Gpa"], converted["Size"], converted["Direction"], converted["Initiator"], converted["FaultId"]));
        Assert.Equal((0, 1UL, FaultAction.Convert, false), (resolved["Vcpu"], resolved["FaultId"], resolved["Action"], resolved["ByFallback"]));
        Assert.IsType<double>(resolved["LatencyMs"]);
        Assert.Equal((0, VcpuState.Halted, "the guest program halted", VcpuExitKind.Halt), (stopped["Vcpu"], stopped["State"], stopped["Reason"], stopped["LastExit"]));
        Assert.Equal(("alice", "simulated"), (deleted["Owner"], deleted["Backend"]));
    }

    [Fact]
    public async Task An_unresolved_fault_logs_a_warning_naming_the_timeout_and_fallback_before_the_fallback_applies()
    {
        var capture = new LogCapture();
        using var factory = capture.Factory(LogLevel.Debug);
        await using var manager = Manager(loggerFactory: factory);
        SetUp(manager, "unresolved", FaultPolicy.Orchestrator, TimeSpan.FromMilliseconds(20), FaultAction.Convert);

        var finished = Until(manager.Events.WatchEvents(Alice, "unresolved", 1, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "unresolved", 0);
        await finished;
        manager.Vms.DeleteVm(Alice, "unresolved");

        var logs = capture.Of("unresolved");
        Assert.Equal([1000, 1010, 1020, 1022, 1030, 1021, 1011, 1001], logs.Select(l => l.EventId));
        var timedOut = logs[3];
        Assert.Equal(LogLevel.Warning, timedOut.Level);
        Assert.Equal((0, 1UL, Page, TimeSpan.FromMilliseconds(20), FaultAction.Convert), (timedOut["Vcpu"], timedOut["FaultId"], timedOut["Gpa"], timedOut["Timeout"], timedOut["Fallback"]));
        Assert.Equal(ConversionInitiator.Fallback, logs[4]["Initiator"]);
        Assert.Equal((1UL, FaultAction.Convert, true), (logs[5]["FaultId"], logs[5]["Action"], logs[5]["ByFallback"]));
        Assert.Equal(VcpuState.Halted, logs[6]["State"]);
        Assert.Equal([LogLevel.Warning], logs.Where(l => l.Level >= LogLevel.Warning).Select(l => l.Level));
    }

    [Fact]
    public async Task A_failed_KVM_RUN_logs_an_error_with_the_errno_and_the_vcpu_failure()
    {
        var capture = new LogCapture();
        using var factory = capture.Factory(LogLevel.Information);
        var hypervisor = new ScriptedHypervisor();
        await using var manager = Manager(hypervisor: hypervisor, loggerFactory: factory);
        manager.Vms.CreateVm(Alice, new() { VmId = "broken" });
        manager.Vcpus.LoadGuestProgram(Alice, "broken", 0, Program(new GuestStep.Halt()));
        hypervisor.Vcpus[0].Then(() => throw new HypervisorException(Errno.EFAULT, "KVM_RUN", "userspace_addr not mapped"));

        var finished = Until(manager.Events.WatchEvents(Alice, "broken", 0, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "broken", 0);
        await finished;
        manager.Vms.DeleteVm(Alice, "broken");

        var logs = capture.Of("broken");
        Assert.Equal([1000, 1010, 1013, 1012, 1001], logs.Select(l => l.EventId));
        var error = logs[2];
        Assert.Equal((LogLevel.Error, "KVM_RUN", Errno.EFAULT, 0), (error.Level, error["Operation"], error["Errno"], error["Vcpu"]));
        Assert.Equal("userspace_addr not mapped", Assert.IsType<HypervisorException>(error.Exception).Reason);
        var failed = logs[3];
        Assert.Equal((LogLevel.Warning, "KVM_RUN failed: EFAULT: userspace_addr not mapped", VcpuExitKind.RunError), (failed.Level, failed["Reason"], failed["LastExit"]));
    }

    [Fact]
    public async Task A_watcher_the_journal_laps_logs_a_warning_with_the_sequences()
    {
        var capture = new LogCapture();
        using var factory = capture.Factory(LogLevel.Information);
        var journal = new EventJournal("lapped", string.Empty, 16, null, null, factory.CreateLogger(CoreLog.Category));
        journal.Append(new EventPayload.GuestReport(0, GuestProgram.ReportPort, 0));
        await using var watch = journal.Watch(1, cancellationToken: Ct).GetAsyncEnumerator(Ct);
        Assert.True(await watch.MoveNextAsync());
        for (var i = 0; i < 100; i++)
        {
            journal.Append(new EventPayload.GuestReport(0, GuestProgram.ReportPort, (uint)i));
        }

        var error = await Assert.ThrowsAsync<CoreException>(async () => await watch.MoveNextAsync());

        Assert.Equal(ErrorReasons.WatcherFellBehind, error.Reason);
        var log = Assert.Single(capture.Of("lapped"));
        Assert.Equal((1040, LogLevel.Warning, 2UL, 86UL), (log.EventId, log.Level, log["NextSequence"], log["OldestSequence"]));
    }

    [Fact]
    public void A_fault_path_message_below_the_level_writes_and_allocates_nothing()
    {
        var capture = new LogCapture();
        using var factory = capture.Factory(LogLevel.Information);
        var logger = factory.CreateLogger(CoreLog.Category);
        void FaultPath(int i)
        {
            CoreLog.FaultRaised(logger, "quiet", 0, (ulong)i, "memory fault", Page, K4, "private");
            CoreLog.ConversionApplied(logger, "quiet", Page, K4, "private", ConversionInitiator.Auto, (ulong)i, 0.25);
            CoreLog.FaultResolved(logger, "quiet", 0, (ulong)i, FaultAction.Convert, false, 0.5);
        }

        FaultPath(0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i <= 1000; i++)
        {
            FaultPath(i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Empty(capture.Records);
    }

    // An sw-protected VM with one vCPU, a 1 MiB guest_memfd bound at Gpa, all shared; the vCPU writes Page privately
    // (one memory fault to private), checks it and halts.
    private static void SetUp(VmManager manager, string vmId, FaultPolicy policy, TimeSpan timeout, FaultAction fallback)
    {
        manager.Vms.CreateVm(Alice, new() { VmId = vmId, VmType = VmType.SwProtected, FaultPolicy = policy, ResolutionTimeout = timeout, TimeoutFallback = fallback });
        var memfd = manager.GuestMemfds.CreateGuestMemfd(Alice, vmId, M, GuestMemfdFlags.None);
        manager.MemoryRegions.SetMemoryRegion(Alice, vmId, new SetMemoryRegionRequest { Slot = 0, Gpa = Gpa, Size = M, Flags = MemoryRegionFlags.GuestMemfd, GuestMemfdId = memfd.Id });
        manager.Vcpus.LoadGuestProgram(Alice, vmId, 0, Program(Write(Page, K4, 0x5a, AccessIntent.Private), Check(Page, K4, 0x5a, AccessIntent.Private), new GuestStep.Halt()));
    }
}
