using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using MemSvc.Client.Errors;
using RpcStatus = Google.Rpc.Status;

namespace MemSvc.Client.Tests.Errors;

/// <summary>google.rpc.Status trailers to typed exceptions, without a server.</summary>
public sealed class ErrorTranslatorTests
{
    private static RpcException WithDetails(Code code, string message, params Google.Protobuf.IMessage[] details)
    {
        var status = new RpcStatus { Code = (int)code, Message = message };
        status.Details.AddRange(details.Select(Any.Pack));
        return status.ToRpcException();
    }

    [Fact]
    public void Reason_metadata_and_every_field_violation_are_kept()
    {
        var info = new ErrorInfo { Reason = "MEMORY_REGION_OVERLAP", Domain = "memsvc", Metadata = { ["errno"] = "EEXIST" } };
        var bad = new BadRequest
        {
            FieldViolations =
            {
                new BadRequest.Types.FieldViolation { Field = "gpa", Description = "overlaps slot 0" },
                new BadRequest.Types.FieldViolation { Field = "size", Description = "too big" },
            },
        };

        var error = ErrorTranslator.Translate(WithDetails(Code.AlreadyExists, "slot overlaps", info, bad));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal("slot overlaps", error.Detail);
        Assert.Equal("MEMORY_REGION_OVERLAP", error.Reason);
        Assert.Equal("memsvc", error.Domain);
        Assert.Equal("EEXIST", error.Metadata["errno"]);
        Assert.Equal("gpa", error.Field);
        Assert.Equal([new FieldViolation("gpa", "overlaps slot 0"), new FieldViolation("size", "too big")], error.FieldViolations);
        Assert.Equal("AlreadyExists (MEMORY_REGION_OVERLAP): slot overlaps [field gpa, size]", error.Message);
    }

    [Fact]
    public void A_watcher_that_fell_behind_is_a_compaction_with_both_sequences()
    {
        var info = new ErrorInfo { Reason = "WATCHER_FELL_BEHIND", Domain = "memsvc", Metadata = { ["oldest_sequence"] = "120", ["next_sequence"] = "57" } };

        var error = Assert.IsType<EventsCompactedException>(ErrorTranslator.Translate(WithDetails(Code.OutOfRange, "fell behind", info)));

        Assert.Equal(120UL, error.OldestSequence);
        Assert.Equal(57UL, error.NextSequence);
    }

    [Fact]
    public void A_status_without_details_keeps_its_code_and_message()
    {
        var error = ErrorTranslator.Translate(new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "connection refused")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Null(error.Reason);
        Assert.Empty(error.FieldViolations);
        Assert.Equal("connection refused", error.Detail);
    }
}
