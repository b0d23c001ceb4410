using MemSvc.Core.Errors;

namespace MemSvc.Core.Identity;

/// <summary>
/// Who is calling: the identity the server authenticated (a client certificate subject, a Unix peer uid) and
/// whether it holds the admin role. Every Core operation takes one; VMs belong to the identity that created them.
/// </summary>
public sealed record CallerIdentity(string Identity, bool IsAdmin = false)
{
    /// <summary>Whether this caller may see and touch a VM owned by <paramref name="owner"/>.</summary>
    public bool MaySee(string owner) => IsAdmin || string.Equals(owner, Identity, StringComparison.Ordinal);

    internal static void Validate(CallerIdentity? caller)
    {
        if (caller is null || string.IsNullOrWhiteSpace(caller.Identity))
        {
            throw new CoreException(ErrorKind.PermissionDenied, ErrorReasons.InvalidCaller, "the caller has no identity");
        }
    }
}
