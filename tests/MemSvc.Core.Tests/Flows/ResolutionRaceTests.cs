using MemSvc.Core.Errors;
using MemSvc.Core.Events;
using MemSvc.Core.Faults;
using MemSvc.Core.Tests.Events;
using static MemSvc.Core.Tests.Flows.ConversionFlow;
using static MemSvc.Core.Tests.Support.Core;

namespace MemSvc.Core.Tests.Flows;

/// <summary>ResolveFault of a fault that is no longer pending says why: each reason means "over", never "retry".</summary>
public class ResolutionRaceTests
{
    [Fact]
    public async Task A_fault_whose_FAIL_fallback_applied_answers_FAULT_TIMED_OUT_naming_the_fallback_and_one_resolved_before_FAULT_ALREADY_RESOLVED()
    {
        await using var manager = Manager();

        // Nobody answers "late" (its fallback fails the vCPU); "answered" waits for the test, however slow it is.
        SetUp(manager, "late", FaultPolicy.Orchestrator, TimeSpan.FromMilliseconds(50), FaultAction.Fail);
        SetUp(manager, "answered", FaultPolicy.Orchestrator, TimeSpan.FromMinutes(5));
        var late = Until(manager.Events.WatchEvents(Alice, "late", 1, cancellationToken: Ct), e => AllFinished(e, 1));
        manager.Vcpus.StartVcpu(Alice, "late", 0);
        manager.Vcpus.StartVcpu(Alice, "answered", 0);
        await PendingFaultListTests.WaitingAsync(manager, "answered", 1);
        manager.Events.ResolveFault(Alice, "answered", 1, FaultAction.Convert);
        await late;

        var timedOut = Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "late", 1, FaultAction.Convert));
        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.FaultTimedOut, "fault_id"), (timedOut.Kind, timedOut.Reason, timedOut.Field));
        Assert.Equal(new Dictionary<string, string> { ["fault_id"] = "1", ["action"] = "FAIL" }, timedOut.Metadata);
        var again = Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "answered", 1, FaultAction.Convert));
        Assert.Equal((ErrorKind.FailedPrecondition, ErrorReasons.FaultAlreadyResolved), (again.Kind, again.Reason));
    }

    [Fact]
    public async Task A_fault_whose_VM_was_deleted_while_it_waited_answers_VM_NOT_FOUND()
    {
        await using var manager = Manager();
        SetUp(manager, "doomed", FaultPolicy.Orchestrator, TimeSpan.FromMinutes(5));
        manager.Vcpus.StartVcpu(Alice, "doomed", 0);
        await PendingFaultListTests.WaitingAsync(manager, "doomed", 1);
        var fault = ((EventPayload.MemoryFault)Assert.Single(manager.Events.ListPendingFaults(Alice, "doomed").Faults).Event.Payload).FaultId;

        manager.Vms.DeleteVm(Alice, "doomed");

        var gone = Assert.Throws<CoreException>(() => manager.Events.ResolveFault(Alice, "doomed", fault, FaultAction.Convert));
        Assert.Equal((ErrorKind.NotFound, ErrorReasons.VmNotFound), (gone.Kind, gone.Reason));
    }

    [Fact]
    public void The_timed_out_faults_kept_are_the_most_recent_ones_up_to_the_capacity()
    {
        var timedOut = new TimedOutFaults();
        for (ulong id = 1; id <= TimedOutFaults.Capacity + 2; id++)
        {
            timedOut.Add(id, id % 2 == 0 ? FaultAction.Fail : FaultAction.Convert);
        }

        Assert.Equal((null, null, FaultAction.Convert), (timedOut.Find(1), timedOut.Find(2), timedOut.Find(3)));
        Assert.Equal(FaultAction.Fail, timedOut.Find(TimedOutFaults.Capacity + 2));
        Assert.Null(new TimedOutFaults().Find(1));
    }
}
