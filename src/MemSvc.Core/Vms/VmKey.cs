namespace MemSvc.Core.Vms;

/// <summary>
/// What identifies a VM in the registry: its name within its owner's namespace. Names are per owner, so that one
/// owner can neither see nor take another's name; ordered by name first, so that an admin's list reads like an
/// owner's.
/// </summary>
internal readonly record struct VmKey(string Id, string Owner) : IComparable<VmKey>
{
    public int CompareTo(VmKey other)
    {
        var byId = string.CompareOrdinal(Id, other.Id);
        return byId != 0 ? byId : string.CompareOrdinal(Owner, other.Owner);
    }
}
