using MemSvc.Core.Faults;
using MemSvc.Core.Vcpus;

namespace MemSvc.Core.Events;

/// <summary>What happened, one record per <see cref="EventKind"/> (the proto's oneof). Sizes and addresses in bytes.</summary>
public abstract record EventPayload
{
    private EventPayload()
    {
    }

    public abstract EventKind Kind { get; }

    /// <summary>The vCPU the event concerns, or null (a ConvertMemory call): what a vCPU filter looks at.</summary>
    public abstract int? SourceVcpu { get; }

    /// <summary>
    /// KVM_EXIT_MEMORY_FAULT: <paramref name="Private"/> when the access was private; <paramref name="Flags"/> raw.
    /// <paramref name="Deadline"/>: under ORCHESTRATOR, when the VM's fallback applies unless the fault is resolved
    /// first; null when the fault waits for nobody (AUTO).
    /// </summary>
    public sealed record MemoryFault(int Vcpu, ulong Gpa, ulong Size, bool Private, ulong Flags, ulong FaultId, DateTimeOffset? Deadline = null) : EventPayload
    {
        public override EventKind Kind => EventKind.MemoryFault;

        public override int? SourceVcpu => Vcpu;
    }

    /// <summary>The guest's KVM_HC_MAP_GPA_RANGE, numbered like faults; <paramref name="Deadline"/> as for a memory fault.</summary>
    public sealed record ConversionRequested(int Vcpu, ulong Gpa, ulong Size, bool ToPrivate, ulong FaultId, DateTimeOffset? Deadline = null) : EventPayload
    {
        public override EventKind Kind => EventKind.ConversionRequested;

        public override int? SourceVcpu => Vcpu;
    }

    /// <summary>
    /// A conversion took effect. <paramref name="FaultId"/> is 0 when no fault caused it; <paramref name="Vcpu"/> is
    /// the faulting vCPU, or null for ConvertMemory.
    /// </summary>
    public sealed record ConversionApplied(
        ulong Gpa,
        ulong Size,
        bool ToPrivate,
        ConversionInitiator Initiator,
        long DurationNanoseconds,
        ulong FaultId,
        int? Vcpu) : EventPayload
    {
        public override EventKind Kind => EventKind.ConversionApplied;

        public override int? SourceVcpu => Vcpu;
    }

    /// <summary>A fault or conversion request was resolved; latency counts from the fault to the resolution.</summary>
    public sealed record FaultResolved(ulong FaultId, FaultAction Action, bool ByFallback, long LatencyNanoseconds, int Vcpu) : EventPayload
    {
        public override EventKind Kind => EventKind.FaultResolved;

        public override int? SourceVcpu => Vcpu;
    }

    public sealed record VcpuStateChanged(int Vcpu, VcpuState State, string Reason) : EventPayload
    {
        public override EventKind Kind => EventKind.VcpuStateChanged;

        public override int? SourceVcpu => Vcpu;
    }

    /// <summary>The guest's Report step: a port write of <paramref name="Value"/>.</summary>
    public sealed record GuestReport(int Vcpu, ushort Port, uint Value) : EventPayload
    {
        public override EventKind Kind => EventKind.GuestReport;

        public override int? SourceVcpu => Vcpu;
    }

    /// <summary>
    /// The journal's last event: the VM did not outlive the daemon process <paramref name="InstanceId"/> (killed,
    /// crashed or stopped without handing its VMs off), and a later process, reading its journal file, says so.
    /// </summary>
    public sealed record VmLost(string InstanceId, string Reason) : EventPayload
    {
        public override EventKind Kind => EventKind.VmLost;

        public override int? SourceVcpu => null;
    }
}
