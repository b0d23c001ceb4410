using Grpc.Core;

namespace MemSvc.Server.Identity;

/// <summary>
/// Who is calling. The one place that decides it: today from the connection (the Unix peer's uid, or a fixed
/// development identity on loopback TCP); mTLS certificates and roles replace it later without touching services.
/// </summary>
internal interface ICallerResolver
{
    string Resolve(ServerCallContext context);
}
