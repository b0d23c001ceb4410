using Google.Protobuf.Reflection;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Resilience;

/// <summary>
/// Each RPC's <see cref="CallKind"/>, from the idempotency its <c>(memsvc.v1.policy)</c> declares in the protos,
/// so that the SDK retries what the contract says may be repeated and keeps no list of its own.
/// </summary>
internal static class CallKinds
{
    /// <summary>The kind of <paramref name="method"/> of <paramref name="service"/>, by the generated client's method name.</summary>
    public static CallKind Of(ServiceDescriptor service, string method) => Of(MethodPolicies.Find(service, method));

    /// <summary>
    /// The kind <paramref name="policy"/> gives. A create is idempotent only with a request_id, which the SDK sends
    /// on every create. An RPC without a declaration is never repeated once it may have run.
    /// </summary>
    public static CallKind Of(MethodPolicy? policy) => policy?.Idempotency switch
    {
        Idempotency.NoSideEffects => CallKind.Read,
        Idempotency.Idempotent or Idempotency.IdempotentWithRequestId => CallKind.IdempotentWrite,
        Idempotency.Delete => CallKind.Delete,
        _ => CallKind.NonIdempotent,
    };
}
