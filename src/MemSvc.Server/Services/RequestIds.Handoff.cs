using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using MemSvc.Contracts.V1;
using MemSvc.Core.Identity;

namespace MemSvc.Server.Services;

internal sealed partial class RequestIds
{
    // The requests whose request_id the ledger remembers: a handoff's ledger naming another is not this build's.
    private static readonly TypeRegistry Requests = TypeRegistry.FromMessages(CreateVmRequest.Descriptor, CreateGuestMemfdRequest.Descriptor);

    /// <summary>
    /// One creation's ledger exported and read back by scratch ledgers, so that the JSON of a handoff's ledger is
    /// compiled before a real handoff needs it (RehearseHandoff): cold, it cost each side 20-30 ms of the vCPUs' pause.
    /// </summary>
    public static void Rehearse()
    {
        var scratch = new RequestIds();
        scratch.Create(new CallerIdentity("memsvc-handoff-rehearsal"), new CreateVmRequest { VmId = "handoff-rehearsal" }, "rehearsal", () => new CreatedKey("handoff-rehearsal", 1), key => key, key => key);
        new RequestIds().Import(scratch.Export());
    }

    /// <summary>The ledger, oldest first, serialized for a planned handoff (a part of the handoff's versioned state).</summary>
    public byte[] Export()
    {
        lock (_table)
        {
            var records = _order.Select(key =>
            {
                var (request, created) = _done[key];
                return new RequestIdRecord(key.Owner, key.Rpc, key.RequestId, request.ToByteArray(), created.VmId, created.Id);
            }).ToList();
            return JsonSerializer.SerializeToUtf8Bytes(records, RequestIdsJsonContext.Default.ListRequestIdRecord);
        }
    }

    /// <summary>Takes the ledger a handed-off process kept (before any call): a retry after the handoff finds its creation.</summary>
    public void Import(ReadOnlySpan<byte> serialized)
    {
        List<RequestIdRecord> records;
        try
        {
            records = JsonSerializer.Deserialize(serialized, RequestIdsJsonContext.Default.ListRequestIdRecord) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the request_id ledger does not parse: {e.Message}", e);
        }

        lock (_table)
        {
            foreach (var r in records)
            {
                var parser = Requests.Find(r.Rpc)?.Parser ?? throw new InvalidDataException($"the request_id ledger names {r.Rpc}, which this build does not remember");
                var key = (r.Owner, r.Rpc, r.RequestId);
                if (_done.TryAdd(key, (parser.ParseFrom(r.Request), new CreatedKey(r.VmId, r.Id))))
                {
                    _order.Enqueue(key);
                }
            }

            while (_order.Count > Capacity)
            {
                _done.Remove(_order.Dequeue());
            }
        }
    }
}

/// <summary>One remembered creation, as a handoff carries it: the request in protobuf, and what it made.</summary>
internal sealed record RequestIdRecord(string Owner, string Rpc, string RequestId, byte[] Request, string VmId, ulong Id);

[JsonSerializable(typeof(List<RequestIdRecord>))]
internal sealed partial class RequestIdsJsonContext : JsonSerializerContext
{
}
