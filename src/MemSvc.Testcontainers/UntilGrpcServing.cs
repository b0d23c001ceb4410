using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace MemSvc.Testcontainers;

/// <summary>Ready means what the image's HEALTHCHECK and Kubernetes' probes mean: grpc.health.v1 answers SERVING.</summary>
internal sealed class UntilGrpcServing(int port) : IWaitUntil
{
    public async Task<bool> UntilAsync(IContainer container)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        try
        {
            var response = await new Health.HealthClient(channel)
                .CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2))
                .ConfigureAwait(false);
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException)
        {
            // Not listening yet (UNAVAILABLE), or starting (a deadline): asked again at the next interval.
            return false;
        }
    }
}
