using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using MemSvc.Core.Errors;
using MemSvc.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Errors;

/// <summary>
/// MemSvc:MaxReceiveMessageBytes, answered with the error table's status: RESOURCE_EXHAUSTED MESSAGE_TOO_LARGE,
/// ErrorInfo metadata limit and size (bytes). grpc-dotnet's own check refuses the same messages, but with a bare
/// status and no ErrorInfo, so the request's first message is measured here first, from its gRPC length prefix,
/// before any of its bytes past the prefix are read. grpc-dotnet's check stays as the backstop for later messages
/// of client streams (reflection). Only MemSvc's and health's RPCs, whose requests are one message sent at once,
/// are measured: a duplex client may wait for the response before it sends anything.
/// </summary>
internal static class MessageSizeLimit
{
    public const string Reason = "MESSAGE_TOO_LARGE";

    // gRPC's framing: a compressed flag byte, then the message length as 4 bytes big-endian.
    private const int PrefixLength = 5;

    public static void UseMessageSizeLimit(this WebApplication app)
    {
        var limit = app.Services.GetRequiredService<IOptions<MemSvcOptions>>().Value.MaxReceiveMessageBytes;
        app.Use(async (context, next) =>
        {
            if (Measured(context) && await DeclaredLengthAsync(context) is { } length && length > (uint)limit)
            {
                await GrpcStatusResponse.WriteAsync(context, ErrorTable.TryMap(Error(length, limit))!).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }

    public static CoreException Error(long size, int limit) =>
        new(
            ErrorKind.ResourceExhausted,
            ServerReasons.MessageTooLarge,
            $"the request message is {size.ToString(CultureInfo.InvariantCulture)} bytes; this server takes at most {limit.ToString(CultureInfo.InvariantCulture)} (MemSvc:MaxReceiveMessageBytes)",
            null,
            new Dictionary<string, string>
            {
                ["limit"] = limit.ToString(CultureInfo.InvariantCulture),
                ["size"] = size.ToString(CultureInfo.InvariantCulture),
            });

    private static bool Measured(HttpContext context) =>
        GrpcStatusResponse.IsGrpc(context) && context.Request.Path.Value is { } path
        && (path.StartsWith("/memsvc.v1.", StringComparison.Ordinal) || path.StartsWith("/grpc.health.v1.", StringComparison.Ordinal));

    /// <summary>The first message's declared length, read without consuming anything; null when the body ends first or the client goes.</summary>
    private static async Task<uint?> DeclaredLengthAsync(HttpContext context)
    {
        var body = context.Request.BodyReader;
        ReadResult read;
        try
        {
            read = await body.ReadAtLeastAsync(PrefixLength, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went away before sending a message: grpc-dotnet will find the body gone too.
            return null;
        }

        var buffer = read.Buffer;
        uint? length = null;
        if (buffer.Length >= PrefixLength)
        {
            var prefix = new byte[PrefixLength];
            buffer.Slice(0, PrefixLength).CopyTo(prefix);
            length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
        }

        // Nothing consumed, nothing examined: grpc-dotnet's read gets the same bytes at once.
        body.AdvanceTo(buffer.Start);
        return length;
    }
}
