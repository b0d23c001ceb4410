using MemSvc.Core.Identity;
using MemSvc.Server.Security;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Identity;

/// <summary>
/// Turns an authenticated principal into the identity Core checks ownership against: its owner name and whether
/// it is admin (the model is described on <see cref="SecurityOptions"/>). Built once from validated options, so
/// a call pays two dictionary lookups.
/// </summary>
internal sealed class CallerMapper
{
    private readonly Dictionary<string, string> _ownerOf = new(StringComparer.Ordinal);
    private readonly HashSet<string> _admins;

    public CallerMapper(IOptions<SecurityOptions> options)
    {
        foreach (var (owner, principals) in options.Value.Owners)
        {
            foreach (var principal in principals)
            {
                _ownerOf[principal] = owner;
            }
        }

        _admins = new HashSet<string>(options.Value.Admins, StringComparer.Ordinal);
    }

    public CallerIdentity Map(string principal)
    {
        var owner = _ownerOf.GetValueOrDefault(principal, principal);
        return new CallerIdentity(owner, _admins.Contains(principal) || _admins.Contains(owner));
    }
}
