using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using MethodDescriptor = Google.Protobuf.Reflection.MethodDescriptor;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D11: a body that is not protobuf got UNKNOWN "Exception was thrown by handler." with no ErrorInfo, and an
/// error-level stack trace in the log for every call (12.8 MB of log in 0.7 s). It is the client's mistake: INVALID_ARGUMENT
/// MALFORMED_REQUEST naming the message type, and the log says so once in a while.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class MalformedBodyTests
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The probe's garbled bodies that no message type parses (unknown fields are parsed too, to skip them).</summary>
    public static TheoryData<string, byte[]> Bodies => new()
    {
        { "a truncated varint", [0x08, 0xff] },
        { "an 11-byte varint", [0x08, .. Enumerable.Repeat((byte)0xff, 10), 0x01] },
        { "tag 0", [0x00, 0x01] },
        { "wire type 6", [0x0e, 0x01] },
        { "wire type 7", [0x0f, 0x01] },
        { "a length past the end", [0x0a, 0x7f, 0x61] },
        { "200 nested groups", [.. Enumerable.Repeat((byte)0x0b, 200)] },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Every_RPC_answers_a_garbled_body_INVALID_ARGUMENT_MALFORMED_REQUEST_naming_its_message_type(string what, byte[] body)
    {
        await using var server = await RunningServer.StartAsync();
        var invoker = server.LoopbackChannel().CreateCallInvoker();
        var methods = new[] { HostService.Descriptor, VmService.Descriptor, GuestMemoryService.Descriptor, VcpuService.Descriptor, EventService.Descriptor, Grpc.Health.V1.Health.Descriptor }
            .SelectMany(s => s.Methods)
            .ToList();

        var answers = new List<(string Method, StatusCode Code, string Reason, string Type)>();
        foreach (var method in methods)
        {
            var error = await RpcAssert.FailsAsync(() => CallAsync(invoker, method, body));
            answers.Add((method.Name, error.Code, error.Info.Reason, error.Info.Metadata["message_type"]));
        }

        Assert.True(methods.Count >= 29, what);
        Assert.Equal(
            methods.Select(m => (m.Name, StatusCode.InvalidArgument, "MALFORMED_REQUEST", m.InputType.FullName)),
            answers);
    }

    [Fact]
    public async Task Invalid_UTF8_in_a_string_field_is_a_malformed_body()
    {
        await using var server = await RunningServer.StartAsync();
        var invoker = server.LoopbackChannel().CreateCallInvoker();

        var error = await RpcAssert.FailsAsync(
            () => CallAsync(invoker, VmService.Descriptor.FindMethodByName("GetVm"), [0x0a, 0x02, 0xc3, 0x28]), StatusCode.InvalidArgument, "MALFORMED_REQUEST");

        Assert.Equal("memsvc.v1.GetVmRequest", error.Info.Metadata["message_type"]);
    }

    [Fact]
    public async Task Five_hundred_garbled_calls_log_no_error_no_stack_trace_and_one_warning_per_10_s_under_the_shipped_log_levels()
    {
        var log = new LogRecorder(LogLevel.Information);
        await using var server = await RunningServer.StartAsync(builder => builder.Logging.AddProvider(log), ("Logging:LogLevel:Default", "Information"));
        var invoker = server.LoopbackChannel().CreateCallInvoker();
        var createVm = VmService.Descriptor.FindMethodByName("CreateVm");

        var codes = new List<StatusCode>();
        for (var i = 0; i < 500; i++)
        {
            codes.Add((await RpcAssert.FailsAsync(() => CallAsync(invoker, createVm, [0x00, 0x01]))).Code);
        }

        var warnings = log.Entries.Where(e => e.EventId == 31 && e.Category.StartsWith("MemSvc.", StringComparison.Ordinal)).ToList();
        Assert.All(codes, code => Assert.Equal(StatusCode.InvalidArgument, code));
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Error);
        Assert.DoesNotContain(log.Entries, e => e.Exception is not null);
        Assert.InRange(warnings.Count, 1, 2);
        Assert.InRange(log.Entries.Sum(e => e.Message.Length), 1, 5_000);
    }

    private static async Task CallAsync(CallInvoker invoker, MethodDescriptor method, byte[] body)
    {
        if (method.IsServerStreaming)
        {
            var streaming = new Method<byte[], byte[]>(MethodType.ServerStreaming, method.Service.FullName, method.Name, Raw, Raw);
            using var call = invoker.AsyncServerStreamingCall(streaming, null, new CallOptions(cancellationToken: Ct), body);
            await call.ResponseStream.MoveNext(Ct);
            return;
        }

        var unary = new Method<byte[], byte[]>(MethodType.Unary, method.Service.FullName, method.Name, Raw, Raw);
        await invoker.AsyncUnaryCall(unary, null, new CallOptions(cancellationToken: Ct), body);
    }
}
