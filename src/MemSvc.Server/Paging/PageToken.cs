using System.Buffers.Text;
using System.Text;
using MemSvc.Core.Errors;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Paging;

/// <summary>
/// AIP-158 paging over a list sorted by key. The token is the last key sent, bound to the collection it came
/// from: a page boundary survives inserts and deletes between calls, and a token cannot be replayed elsewhere.
/// </summary>
internal static class PageToken
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 1000;

    /// <summary>One page of <paramref name="items"/>, which are in ascending <paramref name="key"/> order.</summary>
    public static (IReadOnlyList<T> Page, string NextPageToken) Page<T>(
        IEnumerable<T> items, Func<T, string> key, string collection, int pageSize, string pageToken)
    {
        if (pageSize < 0)
        {
            throw CoreException.InvalidArgument(ServerReasons.InvalidPageSize, "page_size", $"page_size must not be negative, not {pageSize}");
        }

        var size = pageSize == 0 ? DefaultPageSize : Math.Min(pageSize, MaxPageSize);
        var after = string.IsNullOrEmpty(pageToken) ? null : Decode(pageToken, collection);
        var remaining = items.Where(item => after is null || string.CompareOrdinal(key(item), after) > 0).Take(size + 1).ToList();
        if (remaining.Count <= size)
        {
            return (remaining, "");
        }

        remaining.RemoveAt(size);
        return (remaining, Encode(collection, key(remaining[^1])));
    }

    /// <summary>A numeric key whose ordinal order is its numeric order.</summary>
    public static string NumericKey(ulong value) => value.ToString("D20", System.Globalization.CultureInfo.InvariantCulture);

    private static string Encode(string collection, string lastKey) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{collection}\n{lastKey}"));

    private static string Decode(string token, string collection)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var newline = text.IndexOf('\n', StringComparison.Ordinal);
            if (newline >= 0 && text.AsSpan(0, newline).SequenceEqual(collection))
            {
                return text[(newline + 1)..];
            }
        }
        catch (FormatException)
        {
        }

        throw CoreException.InvalidArgument(ServerReasons.InvalidPageToken, "page_token", "page_token is not one this list returned");
    }
}
