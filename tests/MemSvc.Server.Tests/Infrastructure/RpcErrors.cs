using Google.Rpc;
using Grpc.Core;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>What a failed call said: its status code and the google.rpc details the server attached.</summary>
public sealed record RpcError(StatusCode Code, string Message, ErrorInfo Info, BadRequest? BadRequest)
{
    public string? Field => BadRequest?.FieldViolations.SingleOrDefault()?.Field;

    public static RpcError From(RpcException e)
    {
        var status = e.GetRpcStatus() ?? throw new InvalidOperationException($"no google.rpc.Status in {e.Status}");
        var info = status.GetDetail<ErrorInfo>() ?? throw new InvalidOperationException($"no ErrorInfo in {e.Status}");
        return new RpcError(e.StatusCode, status.Message, info, status.GetDetail<BadRequest>());
    }
}

public static class RpcAssert
{
    /// <summary>Runs a call that must fail, and returns what it said.</summary>
    public static async Task<RpcError> FailsAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        return RpcError.From(e);
    }

    /// <summary>A call that must fail with <paramref name="code"/>, reason <paramref name="reason"/> and, when given, BadRequest field <paramref name="field"/>.</summary>
    public static async Task<RpcError> FailsAsync(Func<Task> call, StatusCode code, string reason, string? field = null)
    {
        var error = await FailsAsync(call);
        Assert.Equal((code, reason), (error.Code, error.Info.Reason));
        Assert.Equal("memsvc", error.Info.Domain);
        Assert.Equal(field, error.Field);
        return error;
    }
}
