using Microsoft.Extensions.Options;

namespace MemSvc.Server.Security;

/// <summary>A principal listed under two owners would make ownership depend on dictionary order: refused at start-up.</summary>
internal sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var failures = new List<string>();
        var ownerOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (owner, principals) in options.Owners)
        {
            if (string.IsNullOrWhiteSpace(owner))
            {
                failures.Add("MemSvc:Security:Owners has an empty owner name.");
            }

            foreach (var principal in principals)
            {
                if (string.IsNullOrWhiteSpace(principal))
                {
                    failures.Add($"MemSvc:Security:Owners:{owner} lists an empty principal.");
                }
                else if (!ownerOf.TryAdd(principal, owner) && ownerOf[principal] != owner)
                {
                    failures.Add($"Principal '{principal}' is listed under owners '{ownerOf[principal]}' and '{owner}'; it may act as one owner only.");
                }
            }
        }

        if (options.Admins.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add("MemSvc:Security:Admins lists an empty principal.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
