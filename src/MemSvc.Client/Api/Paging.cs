using System.Runtime.CompilerServices;

namespace MemSvc.Client.Api;

/// <summary>Walks AIP-158 pages until next_page_token comes back empty.</summary>
internal static class Paging
{
    public static async IAsyncEnumerable<T> All<T>(
        Func<string, CancellationToken, Task<(IEnumerable<T> Items, string NextPageToken)>> fetch,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var token = string.Empty;
        do
        {
            var (items, next) = await fetch(token, cancellationToken).ConfigureAwait(false);
            foreach (var item in items)
            {
                yield return item;
            }

            token = next;
        }
        while (!string.IsNullOrEmpty(token));
    }
}
