using Grpc.Core;
using MemSvc.Core.Identity;

namespace MemSvc.Server.Identity;

/// <summary>
/// Who is calling. The one place that decides it, from the connection (an mTLS certificate, the Unix peer's uid,
/// or a fixed development identity on loopback TCP) mapped to an owner and role by configuration.
/// </summary>
internal interface ICallerResolver
{
    CallerIdentity Resolve(ServerCallContext context);
}
