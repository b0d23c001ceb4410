using System.Globalization;
using System.Text;
using Grpc.Core;

namespace MemSvc.Server.Errors;

/// <summary>
/// Answers a request with a gRPC status from outside any gRPC service (a refused connection, an oversized message):
/// a trailers-only response, as grpc-dotnet writes one, carrying the status that <see cref="ErrorTable"/> built,
/// its google.rpc.Status details included, so that every refusal has the same ErrorInfo a service error has.
/// </summary>
internal static class GrpcStatusResponse
{
    public const string GrpcContentType = "application/grpc";

    public static Task WriteAsync(HttpContext context, RpcException status)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcContentType;
        response.Headers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(status.Status.Detail);
        foreach (var entry in status.Trailers)
        {
            response.Headers[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
        }

        return response.CompleteAsync();
    }

    /// <summary>Whether the request is a gRPC call (HTTP/2, application/grpc), which can take a status as its answer.</summary>
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType is { } type && type.StartsWith(GrpcContentType, StringComparison.OrdinalIgnoreCase);

    // grpc-message is percent-encoded UTF-8: printable ASCII except '%' stays as it is (the gRPC HTTP/2 spec).
    private static string PercentEncode(string message)
    {
        var text = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
