using System.Diagnostics.Metrics;

namespace MemSvc.Client.Orchestration;

/// <summary>What an orchestrator has done so far, by outcome (a snapshot; counts only grow).</summary>
/// <param name="Handled">Faults handed to the handler.</param>
/// <param name="Resolved">Resolved by this orchestrator.</param>
/// <param name="ResolvedElsewhere">Resolved first by somebody else.</param>
/// <param name="TimedOut">The VM's fallback applied first.</param>
/// <param name="VmGone">Their VM was deleted or replaced first.</param>
/// <param name="HandlerFailures">The handler threw.</param>
/// <param name="ResolveFailures">ResolveFault failed otherwise.</param>
/// <param name="Listings">ListPendingFaults rounds: one at the start and one per reconnect.</param>
public sealed record FaultOrchestratorCounts(
    long Handled, long Resolved, long ResolvedElsewhere, long TimedOut, long VmGone, long HandlerFailures, long ResolveFailures, long Listings);

/// <summary>The counters behind <see cref="FaultOrchestratorCounts"/>, also published on the "MemSvc.Client" meter.</summary>
internal sealed class OrchestratorCounters
{
    private static readonly Meter Meter = new(Diagnostics.MemSvcClientDiagnostics.MeterName);
    private static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("memsvc.client.orchestrator.faults", description: "Faults an orchestrator handled, by outcome");

    private readonly long[] _byKind = new long[Enum.GetValues<FaultOutcomeKind>().Length + 1];
    private long _handled;
    private long _listings;

    public void Handled() => Interlocked.Increment(ref _handled);

    public void Listed() => Interlocked.Increment(ref _listings);

    public void Ended(FaultOutcomeKind kind)
    {
        Interlocked.Increment(ref _byKind[(int)kind]);
        Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", kind.ToString()));
    }

    public FaultOrchestratorCounts Snapshot() => new(
        Interlocked.Read(ref _handled),
        Read(FaultOutcomeKind.Resolved),
        Read(FaultOutcomeKind.ResolvedElsewhere),
        Read(FaultOutcomeKind.TimedOut),
        Read(FaultOutcomeKind.VmGone),
        Read(FaultOutcomeKind.HandlerFailed),
        Read(FaultOutcomeKind.ResolveFailed),
        Interlocked.Read(ref _listings));

    private long Read(FaultOutcomeKind kind) => Interlocked.Read(ref _byKind[(int)kind]);
}
