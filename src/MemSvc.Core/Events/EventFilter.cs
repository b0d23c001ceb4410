using MemSvc.Core.Errors;

namespace MemSvc.Core.Events;

/// <summary>
/// Which events a watch delivers: empty sets mean all. A vCPU filter keeps the events of those vCPUs and drops
/// those tied to none (conversions by ConvertMemory). Sequences stay the journal's, so a filtered watch resumes
/// from last seen + 1 like any other.
/// </summary>
public sealed record EventFilter(IReadOnlySet<EventKind> Kinds, IReadOnlySet<int> Vcpus)
{
    public static EventFilter All { get; } = new(new HashSet<EventKind>(), new HashSet<int>());

    public bool Matches(VmEvent evt)
    {
        if (Kinds.Count > 0 && !Kinds.Contains(evt.Kind))
        {
            return false;
        }

        if (Vcpus.Count == 0)
        {
            return true;
        }

        var vcpu = evt.Payload.SourceVcpu;
        return vcpu is int v && Vcpus.Contains(v);
    }

    internal void Validate()
    {
        if (Kinds.Contains(EventKind.Unspecified) || Kinds.Any(k => !Enum.IsDefined(k)))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidEventFilter, "filter.kinds", "unknown event kind in the filter");
        }

        if (Vcpus.Any(v => v < 0))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidEventFilter, "filter.vcpus", "vCPU indexes are not negative");
        }
    }
}
