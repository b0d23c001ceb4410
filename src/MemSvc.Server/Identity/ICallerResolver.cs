using Grpc.Core;
using MemSvc.Core.Identity;

namespace MemSvc.Server.Identity;

/// <summary>
/// Who is calling. The one place that decides it: today from the connection (the Unix peer's uid, or a fixed
/// development identity on loopback TCP); mTLS certificates and roles replace it later without touching services.
/// </summary>
internal interface ICallerResolver
{
    CallerIdentity Resolve(ServerCallContext context);
}
