using Google.Protobuf;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Errors;

/// <summary>A call to a method the server does not have: UNIMPLEMENTED with ErrorInfo, as every MemSvc error.</summary>
public sealed class UnknownMethodTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("memsvc.v1.VmService", "RebootVm")]
    [InlineData("memsvc.v9.VmService", "GetVm")]
    public async Task An_unknown_method_or_service_is_UNIMPLEMENTED_UNKNOWN_METHOD_naming_the_path(string service, string name)
    {
        await using var server = await RunningServer.StartAsync();
        var invoker = server.LoopbackChannel().CreateCallInvoker();
        var method = new Method<GetVmRequest, Vm>(MethodType.Unary, service, name, Marshallers.Create(r => r.ToByteArray(), GetVmRequest.Parser.ParseFrom), Marshallers.Create(v => v.ToByteArray(), Vm.Parser.ParseFrom));

        var error = await RpcAssert.FailsAsync(() => invoker.AsyncUnaryCall(method, null, new CallOptions(cancellationToken: Ct), new GetVmRequest { Name = "vms/a" }).ResponseAsync, StatusCode.Unimplemented, "UNKNOWN_METHOD");
        var vms = await new VmService.VmServiceClient(server.LoopbackChannel()).ListVmsAsync(new ListVmsRequest(), cancellationToken: Ct);

        Assert.Equal($"/{service}/{name}", error.Info.Metadata["method"]);
        Assert.Contains($"/{service}/{name}", error.Message, StringComparison.Ordinal);
        Assert.Empty(vms.Vms);
    }
}
