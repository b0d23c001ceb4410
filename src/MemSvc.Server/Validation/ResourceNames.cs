using System.Globalization;
using System.Text.RegularExpressions;
using MemSvc.Core.Errors;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Validation;

/// <summary>
/// The API's resource names (AIP-122): `vms/{vm}`, `vms/{vm}/guestMemfds/{id}`, `vms/{vm}/memoryRegions/{slot}`,
/// `vms/{vm}/vcpus/{index}`. Parsing refuses anything else with INVALID_ARGUMENT naming the field.
/// </summary>
internal static partial class ResourceNames
{

    public static string Vm(string vmId) => $"vms/{vmId}";

    public static string GuestMemfd(string vmId, ulong id) => $"vms/{vmId}/guestMemfds/{id.ToString(CultureInfo.InvariantCulture)}";

    public static string MemoryRegion(string vmId, uint slot) => $"vms/{vmId}/memoryRegions/{slot.ToString(CultureInfo.InvariantCulture)}";

    public static string Vcpu(string vmId, int index) => $"vms/{vmId}/vcpus/{index.ToString(CultureInfo.InvariantCulture)}";

    public static bool IsValidVmId(string vmId) => VmIdPattern().IsMatch(vmId);

    /// <summary>The vm id of `vms/{vm}`.</summary>
    public static string ParseVm(string name, string field)
    {
        var parts = Split(name, field, 2, "vms/{vm}");
        return VmId(parts, name, field, "vms/{vm}");
    }

    /// <summary>The vm id and guest_memfd id of `vms/{vm}/guestMemfds/{id}`.</summary>
    public static (string VmId, ulong Id) ParseGuestMemfd(string name, string field)
    {
        const string Shape = "vms/{vm}/guestMemfds/{id}";
        var parts = Split(name, field, 4, Shape);
        var vmId = VmId(parts, name, field, Shape);
        if (parts[2] != "guestMemfds" || !TryParseDecimal(parts[3], out var id) || id == 0)
        {
            throw Invalid(name, field, Shape);
        }

        return (vmId, id);
    }

    /// <summary>The vm id and slot of `vms/{vm}/memoryRegions/{slot}`.</summary>
    public static (string VmId, uint Slot) ParseMemoryRegion(string name, string field)
    {
        const string Shape = "vms/{vm}/memoryRegions/{slot}";
        var parts = Split(name, field, 4, Shape);
        var vmId = VmId(parts, name, field, Shape);
        if (parts[2] != "memoryRegions" || !TryParseDecimal(parts[3], out var slot) || slot > uint.MaxValue)
        {
            throw Invalid(name, field, Shape);
        }

        return (vmId, (uint)slot);
    }

    /// <summary>The vm id and vCPU index of `vms/{vm}/vcpus/{index}`.</summary>
    public static (string VmId, int Index) ParseVcpu(string name, string field)
    {
        const string Shape = "vms/{vm}/vcpus/{index}";
        var parts = Split(name, field, 4, Shape);
        var vmId = VmId(parts, name, field, Shape);
        if (parts[2] != "vcpus" || !TryParseDecimal(parts[3], out var index) || index > int.MaxValue)
        {
            throw Invalid(name, field, Shape);
        }

        return (vmId, (int)index);
    }

    private static string[] Split(string name, string field, int count, string shape)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw CoreException.InvalidArgument(ServerReasons.FieldRequired, field, $"{field} is required: {shape}");
        }

        var parts = name.Split('/');
        return parts.Length == count ? parts : throw Invalid(name, field, shape);
    }

    private static string VmId(string[] parts, string name, string field, string shape) =>
        parts[0] == "vms" && IsValidVmId(parts[1]) ? parts[1] : throw Invalid(name, field, shape);

    /// <summary>Canonical decimal only (no sign, no leading zeros), so that one resource has one name.</summary>
    private static bool TryParseDecimal(string text, out ulong value)
    {
        value = 0;
        return text.Length > 0 && text.Length <= 20 && (text == "0" || text[0] != '0') && text.All(char.IsAsciiDigit)
            && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static CoreException Invalid(string name, string field, string shape) =>
        CoreException.InvalidArgument(ServerReasons.InvalidName, field, $"{field} '{Truncate(name)}' is not a name of the form {shape}");

    /// <summary>
    /// Echoes at most a short prefix of a bad name, its control characters escaped: a client's mistake should not
    /// fill the logs, nor break a log line or a terminal with a raw newline or escape sequence.
    /// </summary>
    private static string Truncate(string text)
    {
        var prefix = text.Length <= 80 ? text : text[..80];
        var escaped = new System.Text.StringBuilder(prefix.Length);
        foreach (var c in prefix)
        {
            _ = char.IsControl(c) ? escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : escaped.Append(c);
        }

        return text.Length <= 80 ? escaped.ToString() : escaped.Append("...").ToString();
    }

    // \z, not $: .NET's $ also matches before a final "\n", which let "vms/fz\n" through as a well-formed name.
    [GeneratedRegex(@"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex VmIdPattern();
}
