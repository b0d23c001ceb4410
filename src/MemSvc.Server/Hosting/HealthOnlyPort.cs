using Microsoft.Extensions.Options;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Keeps MemSvc:HealthPort to grpc.health.v1: the port is plaintext on every address so that kubelet can probe
/// it, so nothing that touches VMs may be reachable there.
/// </summary>
internal static class HealthOnlyPort
{
    private const string HealthService = "/grpc.health.v1.Health";

    public static void UseHealthOnlyPort(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<MemSvcOptions>>().Value.HealthPort;
        if (port is not { } healthPort)
        {
            return;
        }

        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == healthPort && !context.Request.Path.StartsWithSegments(HealthService, StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }
}
