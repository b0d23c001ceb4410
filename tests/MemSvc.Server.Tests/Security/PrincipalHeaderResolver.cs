using Grpc.Core;
using MemSvc.Core.Identity;
using MemSvc.Server.Identity;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// Lets one test process be several principals at once: the principal comes from a request header instead of
/// the connection, then goes through the server's real <see cref="CallerMapper"/> (owners and admins from
/// configuration). Only the "who is connected" step is replaced; the mTLS and socket tests cover that step.
/// </summary>
internal sealed class PrincipalHeaderResolver(CallerMapper mapper) : ICallerResolver
{
    public const string Header = "x-test-principal";

    public CallerIdentity Resolve(ServerCallContext context) =>
        mapper.Map(context.RequestHeaders.GetValue(Header) ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "no test principal")));
}

/// <summary>Adds the test principal to every request of a channel.</summary>
internal sealed class PrincipalHandler(string principal) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Add(PrincipalHeaderResolver.Header, principal);
        return base.SendAsync(request, cancellationToken);
    }
}
