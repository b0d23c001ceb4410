using Google.Protobuf;
using MemSvc.Core.Errors;
using MemSvc.Core.Identity;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Services;

/// <summary>
/// request_id (AIP-155) of the RPCs that create: a retry of a creation that already happened returns what it
/// created, read again now, instead of a second one or ALREADY_EXISTS. Remembers the last <see cref="Capacity"/>
/// creations per server, keyed by owner, RPC and request_id; the same request_id with a different request is
/// refused, since it can only be a client bug.
/// </summary>
internal sealed partial class RequestIds
{
    public const int Capacity = 4096;
    public const int MaxRequestIdLength = 128;

    // How many locks creations are spread over: two creations wait for each other only when their keys share one.
    public const int Stripes = 64;

    // Guards the table alone, and is held for lookups and inserts only, never while anything is created.
    private readonly Lock _table = new();
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, Stripes).Select(_ => new Lock())];
    private readonly Dictionary<(string Owner, string Rpc, string RequestId), (IMessage Request, CreatedKey Created)> _done = [];
    private readonly Queue<(string Owner, string Rpc, string RequestId)> _order = new();

    /// <param name="create">Makes the thing; runs at most once per request_id.</param>
    /// <param name="keyOf">What names the thing made, so that it can be read again (and handed off to a new process).</param>
    /// <param name="readAgain">What a retry returns: the thing <paramref name="create"/> made, as it is now.</param>
    public T Create<TRequest, T>(CallerIdentity caller, TRequest request, string requestId, Func<T> create, Func<T, CreatedKey> keyOf, Func<CreatedKey, T> readAgain)
        where TRequest : IMessage<TRequest>
        where T : class
    {
        if (requestId.Length == 0)
        {
            return create();
        }

        if (requestId.Length > MaxRequestIdLength)
        {
            throw CoreException.InvalidArgument(ServerReasons.ValueOutOfRange, "request_id", $"request_id has at most {MaxRequestIdLength} characters");
        }

        var key = (caller.Identity, request.Descriptor.FullName, requestId);

        // The key's stripe around the check and the creation: a retry that races its original waits for it rather
        // than creating a twin. One lock for every key would make any owner's creation wait for any other's, and a
        // creation can wait on a VM's lock behind a long conversion (the memory quota reads every VM of its owner).
        lock (_stripes[StripeOf(key)])
        {
            (IMessage Request, CreatedKey Created) earlier;
            bool found;
            lock (_table)
            {
                found = _done.TryGetValue(key, out earlier);
            }

            if (found)
            {
                return earlier.Request.Equals(request)
                    ? readAgain(earlier.Created)
                    : throw CoreException.InvalidArgument(ServerReasons.RequestIdReused, "request_id", $"request_id was used before for a different {request.Descriptor.Name}");
            }

            var created = create();
            lock (_table)
            {
                _done[key] = (request.Clone(), keyOf(created));
                _order.Enqueue(key);
                if (_order.Count > Capacity)
                {
                    _done.Remove(_order.Dequeue());
                }
            }

            return created;
        }
    }

    /// <summary>The stripe a key's creation locks (tests pick keys on different stripes).</summary>
    internal static int StripeOf((string Owner, string Rpc, string RequestId) key) =>
        (int)((uint)StringComparer.Ordinal.GetHashCode(key.Owner + "\n" + key.Rpc + "\n" + key.RequestId) % Stripes);
}

/// <summary>What a creation made: a VM (<paramref name="Id"/> 0) or one of its guest_memfds.</summary>
internal sealed record CreatedKey(string VmId, ulong Id);
