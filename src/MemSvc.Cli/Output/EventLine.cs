using System.Globalization;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Output;

/// <summary>One event on one line: sequence, VM, time, kind, then key=value fields.</summary>
internal static class EventLine
{
    public static string Format(Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return $"#{e.Sequence.ToString(CultureInfo.InvariantCulture)} {e.Vm} {Units.Time(e.Time)} {Body(e)}";
    }

    /// <summary>The kind and fields, without sequence, VM and time (the demo's narration).</summary>
    public static string Body(Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.PayloadCase switch
        {
            Event.PayloadOneofCase.MemoryFault => MemoryFault(e.MemoryFault),
            Event.PayloadOneofCase.ConversionRequested => ConversionRequested(e.ConversionRequested),
            Event.PayloadOneofCase.ConversionApplied => ConversionApplied(e.ConversionApplied),
            Event.PayloadOneofCase.FaultResolved => FaultResolved(e.FaultResolved),
            Event.PayloadOneofCase.VcpuStateChanged => VcpuStateChanged(e.VcpuStateChanged),
            Event.PayloadOneofCase.GuestReport => $"guest-report vcpu={e.GuestReport.Vcpu} port={Units.Hex(e.GuestReport.Port)} value={e.GuestReport.Value} ({Units.Hex(e.GuestReport.Value)})",
            Event.PayloadOneofCase.VmLost => $"vm-lost instance={e.VmLost.InstanceId} reason=\"{e.VmLost.Reason}\"",
            _ => "unknown-event",
        };
    }

    private static string MemoryFault(MemoryFaultEvent f) =>
        $"memory-fault vcpu={f.Vcpu} gpa={Units.Hex(f.Gpa)} size={f.Size} access={(f.Private ? "private" : "shared")} flags={Units.Hex(f.Flags)} fault={f.FaultId}";

    private static string ConversionRequested(ConversionRequestedEvent c) =>
        $"conversion-requested vcpu={c.Vcpu} gpa={Units.Hex(c.Gpa)} size={c.Size} to={(c.ToPrivate ? "private" : "shared")} fault={c.FaultId}";

    private static string ConversionApplied(ConversionAppliedEvent c)
    {
        var vcpu = c.HasVcpu ? $" vcpu={c.Vcpu}" : string.Empty;
        return $"conversion-applied gpa={Units.Hex(c.Gpa)} size={c.Size} to={(c.ToPrivate ? "private" : "shared")} by={EnumWords.Kebab(c.Initiator)} fault={c.FaultId}{vcpu} took={Units.Duration(c.Duration)}";
    }

    private static string FaultResolved(FaultResolvedEvent r)
    {
        var fallback = r.ByFallback ? " by=fallback" : string.Empty;
        return $"fault-resolved fault={r.FaultId} vcpu={r.Vcpu} action={EnumWords.Kebab(r.Action)}{fallback} latency={Units.Duration(r.Latency)}";
    }

    private static string VcpuStateChanged(VcpuStateChangedEvent s)
    {
        var reason = string.IsNullOrEmpty(s.Reason) ? string.Empty : $" reason=\"{s.Reason}\"";
        return $"vcpu-state vcpu={s.Vcpu} state={EnumWords.Kebab(s.State)}{reason}";
    }
}
