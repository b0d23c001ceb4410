using System.Globalization;
using MemSvc.Core.Errors;
using MemSvc.Server.Errors;
using Microsoft.AspNetCore.Connections.Features;

namespace MemSvc.Server.Connections;

/// <summary>
/// The HTTP side of a refused connection (see <see cref="ConnectionAdmission"/>): every request on it is answered
/// RESOURCE_EXHAUSTED CONNECTION_LIMIT, ErrorInfo metadata naming the scope (server, listener, peer) and its limit,
/// and the connection is asked to close (GOAWAY). Nothing on it reaches a service. Plain HTTP (the Prometheus
/// port) gets 503.
/// </summary>
internal static class RefusedConnections
{
    public static void UseRefusedConnections(this WebApplication app) =>
        app.Use(async (context, next) =>
        {
            if (context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ConnectionAdmission.RefusalKey, out var item) != true
                || item is not ConnectionRefusal refusal)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
            if (GrpcStatusResponse.IsGrpc(context))
            {
                await GrpcStatusResponse.WriteAsync(context, ErrorTable.TryMap(ToError(refusal))!).ConfigureAwait(false);
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            }
        });

    public static CoreException ToError(ConnectionRefusal refusal) =>
        new(
            ErrorKind.ResourceExhausted,
            ServerReasons.ConnectionLimit,
            $"the server holds its {refusal.Scope} limit of {refusal.Limit.ToString(CultureInfo.InvariantCulture)} connections; close an idle connection or retry later",
            null,
            new Dictionary<string, string>
            {
                ["scope"] = refusal.Scope,
                ["limit"] = refusal.Limit.ToString(CultureInfo.InvariantCulture),
            });
}
