using System.Globalization;

namespace MemSvc.Client;

/// <summary>
/// AIP resource names. Methods accept either a VM id (<c>demo</c>) or its name (<c>vms/demo</c>), so callers
/// and the command line can pass what an operator types.
/// </summary>
public static class ResourceNames
{
    private const string VmPrefix = "vms/";

    /// <summary><c>vms/{vm}</c> from an id or a name.</summary>
    public static string Vm(string vm)
    {
        ArgumentException.ThrowIfNullOrEmpty(vm);
        return vm.StartsWith(VmPrefix, StringComparison.Ordinal) ? vm : VmPrefix + vm;
    }

    /// <summary>The id part of <c>vms/{vm}</c> (or of a name below it).</summary>
    public static string VmId(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!name.StartsWith(VmPrefix, StringComparison.Ordinal))
        {
            return name;
        }

        var rest = name[VmPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? rest : rest[..slash];
    }

    /// <summary><c>vms/{vm}/guestMemfds/{id}</c>.</summary>
    public static string GuestMemfd(string vm, ulong id) => $"{Vm(vm)}/guestMemfds/{id.ToString(CultureInfo.InvariantCulture)}";

    /// <summary><c>vms/{vm}/memoryRegions/{slot}</c>.</summary>
    public static string MemoryRegion(string vm, uint slot) => $"{Vm(vm)}/memoryRegions/{slot.ToString(CultureInfo.InvariantCulture)}";

    /// <summary><c>vms/{vm}/vcpus/{index}</c>.</summary>
    public static string Vcpu(string vm, uint index) => $"{Vm(vm)}/vcpus/{index.ToString(CultureInfo.InvariantCulture)}";
}
