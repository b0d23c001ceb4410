using MemSvc.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Telemetry;

/// <summary>
/// Serves the Prometheus scrape on MemSvc:Telemetry:PrometheusPort and nothing else there; the scrape path is
/// served on no other listener, so a client of the gRPC ports never reads metrics through them.
/// </summary>
internal static class PrometheusScrapePort
{
    public static void UsePrometheusScrapePort(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<MemSvcOptions>>().Value.Telemetry.PrometheusPort;
        if (port is not { } scrapePort)
        {
            return;
        }

        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Connection.LocalPort == scrapePort && context.Request.Path == TelemetryOptions.ScrapePath);
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == scrapePort)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }
}
