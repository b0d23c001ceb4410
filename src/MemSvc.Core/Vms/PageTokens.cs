using System.Buffers.Text;
using System.Text;
using MemSvc.Core.Errors;

namespace MemSvc.Core.Vms;

/// <summary>Page tokens of the lists paged by VM (ListVms, ListPendingFaults): opaque to clients, the last id of the previous page inside.</summary>
internal static class PageTokens
{
    private const string Prefix = "vms1:";

    public static string Encode(string lastVmId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + lastVmId));

    /// <summary>The id after which the page starts, or null for the first page.</summary>
    public static string? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith(Prefix, StringComparison.Ordinal) && VmIds.IsValid(text[Prefix.Length..]))
            {
                return text[Prefix.Length..];
            }
        }
        catch (FormatException)
        {
        }

        throw CoreException.InvalidArgument(ErrorReasons.InvalidPageToken, "page_token", "page_token is not one this list returned");
    }
}
