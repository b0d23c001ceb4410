using Grpc.Core;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// A ServerCallContext for calling a server interceptor directly, without a server: the method, the request headers,
/// the cancellation token and the deadline are what the test gives; everything else is inert.
/// </summary>
internal sealed class TestCallContext(string method, Metadata headers, CancellationToken cancellationToken, DateTime? deadline = null) : ServerCallContext
{
    protected override string MethodCore => method;

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:1";

    protected override DateTime DeadlineCore => deadline ?? DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => headers;

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
