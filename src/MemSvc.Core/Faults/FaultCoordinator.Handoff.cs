using System.Diagnostics;
using MemSvc.Core.Events;
using MemSvc.Core.Handoff;

namespace MemSvc.Core.Faults;

internal sealed partial class FaultCoordinator
{
    private volatile bool _frozen;

    /// <summary>
    /// Set while a planned handoff freezes the VM's vCPUs: a vCPU whose wait is cancelled then leaves its fault
    /// pending (it moves to the next process, or the vCPU waits on it again when the handoff is called off).
    /// </summary>
    public bool Frozen
    {
        get => _frozen;
        set => _frozen = value;
    }

    /// <summary>Faults vCPUs wait on now.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>The fault pending under <paramref name="faultId"/>, or null.</summary>
    public PendingFault? Pending(ulong faultId) => _pending.GetValueOrDefault(faultId);

    /// <summary>The numbering, the pending faults with their age now, and the timed-out ones; the vCPUs are frozen.</summary>
    public FaultsHandoffState Export(Func<VmEvent, byte[]> encode)
    {
        lock (_listLock)
        {
            var pending = _pending.Values
                .OrderBy(f => f.Id)
                .Select(f => new PendingFaultHandoffState(
                    f.Id, f.Vcpu, f.Gpa, f.Size, f.ToPrivate, f.IsConversionRequest, Stopwatch.GetElapsedTime(f.RaisedAt), f.Announcement is { } a ? encode(a) : null))
                .ToList();
            return new FaultsHandoffState(LastId, pending, [.. _timedOut.InOrder().Select(t => new TimedOutHandoffState(t.FaultId, t.Applied))]);
        }
    }

    /// <summary>
    /// Takes the numbering and pending faults of a VM handed off by another process, each as old as it was there
    /// plus <paramref name="sinceTaken"/> (the switch's own time counts against its deadline).
    /// </summary>
    public void Adopt(FaultsHandoffState state, TimeSpan sinceTaken, Func<byte[], VmEvent> decode)
    {
        lock (_listLock)
        {
            Interlocked.Exchange(ref _lastId, (long)state.LastId);
            foreach (var timedOut in state.TimedOut)
            {
                _timedOut.Add(timedOut.Id, timedOut.Applied);
            }

            foreach (var f in state.Pending)
            {
                var age = f.Elapsed + (sinceTaken > TimeSpan.Zero ? sinceTaken : TimeSpan.Zero);
                _pending[f.Id] = new PendingFault(f.Id, f.Vcpu, f.Gpa, f.Size, f.ToPrivate, f.IsConversionRequest)
                {
                    RaisedAt = Stopwatch.GetTimestamp() - (long)(age.TotalSeconds * Stopwatch.Frequency),
                    Announcement = f.Announcement is { } bytes ? decode(bytes) : null,
                };
            }
        }
    }

    /// <summary>
    /// A thawed vCPU's wait on the fault it waited on before the freeze, for what is left of its deadline, then the
    /// fallback as usual; null when the VM stopped or froze again meanwhile.
    /// </summary>
    public FaultAction? AwaitAgain(PendingFault fault, CancellationToken stop)
    {
        var left = vm.ResolutionTimeout - Stopwatch.GetElapsedTime(fault.RaisedAt);
        return Await(fault, left > TimeSpan.Zero ? left : TimeSpan.Zero, stop);
    }
}
