using Grpc.AspNetCore.Server;
using MemSvc.Core.Errors;

namespace MemSvc.Server.Errors;

/// <summary>
/// A gRPC call to a method no service here has gets UNIMPLEMENTED with ErrorInfo UNKNOWN_METHOD, like every other
/// MemSvc error: grpc-dotnet's own answer ("Method is unimplemented.") carries no details, and a client reading
/// ErrorInfo (as README tells it to) would find none.
/// </summary>
internal static class UnknownMethods
{
    public static void UseUnknownMethods(this WebApplication app) => app.Use(async (context, next) =>
    {
        // Routing has run: a real method's endpoint carries grpc-dotnet's method metadata, its fallback for unknown
        // services and methods does not.
        if (GrpcStatusResponse.IsGrpc(context) && context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is null)
        {
            await GrpcStatusResponse.WriteAsync(context, ErrorTable.TryMap(Error(context.Request.Path.Value ?? string.Empty))!).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    });

    public static CoreException Error(string path) =>
        new(
            ErrorKind.Unimplemented,
            ServerReasons.UnknownMethod,
            $"this server has no method {path}: see its reflection service, or GetHostInfo for its version",
            null,
            new Dictionary<string, string> { ["method"] = path });
}
