using System.Security.Cryptography;
using MemSvc.Core.Errors;

namespace MemSvc.Core.Vms;

/// <summary>VM id rules (AIP-122 resource ids) and generated ids.</summary>
internal static class VmIds
{
    public const int MaxLength = 63;

    /// <summary>Whether <paramref name="id"/> matches [a-z]([a-z0-9-]{0,61}[a-z0-9])?.</summary>
    public static bool IsValid(string id)
    {
        if (id.Length is 0 or > MaxLength || id[0] is < 'a' or > 'z' || id[^1] == '-')
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static void Validate(string id)
    {
        if (!IsValid(id))
        {
            throw CoreException.InvalidArgument(
                ErrorReasons.InvalidVmId,
                "vm_id",
                $"vm_id '{Shorten(id)}' must match [a-z]([a-z0-9-]{{0,61}}[a-z0-9])?");
        }
    }

    /// <summary>A VM uid a request names: empty (none named), or a UUID in its canonical 8-4-4-4-12 form.</summary>
    public static void ValidateUid(string uid, string field)
    {
        if (uid.Length > 0 && !Guid.TryParseExact(uid, "D", out _))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidVmUid, field, $"{field}: '{Shorten(uid)}' is not a VM uid (a UUID such as a Vm's uid field)");
        }
    }

    public static string Generate() => "vm-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    // Echoing a huge or hostile id back in full would turn the error into an amplifier.
    private static string Shorten(string id) => id.Length <= 80 ? id : id[..80] + "...";
}
