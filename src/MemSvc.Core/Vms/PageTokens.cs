using System.Buffers.Text;
using System.Text;
using MemSvc.Core.Errors;

namespace MemSvc.Core.Vms;

/// <summary>
/// Page tokens of the lists paged by VM (ListVms, ListPendingFaults): opaque to clients, the last VM of the
/// previous page inside, by id and owner (names are per owner, so an admin's list may hold one id several times).
/// </summary>
internal static class PageTokens
{
    private const string Prefix = "vms2:";

    // Ids never hold NUL (VmIds.IsValid), so it separates the id from the owner unambiguously.
    private const char Separator = '\0';

    public static string Encode(VmKey last) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + last.Id + Separator + last.Owner));

    /// <summary>The VM after which the page starts, or null for the first page.</summary>
    public static VmKey? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var separator = text.IndexOf(Separator, StringComparison.Ordinal);
            if (text.StartsWith(Prefix, StringComparison.Ordinal) && separator > Prefix.Length && VmIds.IsValid(text[Prefix.Length..separator]))
            {
                return new VmKey(text[Prefix.Length..separator], text[(separator + 1)..]);
            }
        }
        catch (FormatException)
        {
        }

        throw CoreException.InvalidArgument(ErrorReasons.InvalidPageToken, "page_token", "page_token is not one this list returned");
    }
}
