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

    [Fact]
    public void VM_REPLACED_becomes_a_typed_error_naming_both_incarnations_and_the_faults_over_answers_are_told_apart()
    {
        var info = new ErrorInfo { Reason = "VM_REPLACED", Domain = "memsvc", Metadata = { ["vm_uid"] = "old", ["current_vm_uid"] = "new" } };

        var replaced = Assert.IsType<VmReplacedException>(ErrorTranslator.Translate(WithDetails(Code.FailedPrecondition, "replaced", info)));

        Assert.Equal(("old", "new"), (replaced.VmUid, replaced.CurrentVmUid));
        Assert.True(FaultErrors.IsFaultOver(replaced));
        foreach (var (code, reason, over) in new[]
        {
            (Code.FailedPrecondition, "FAULT_ALREADY_RESOLVED", true),
            (Code.FailedPrecondition, "FAULT_TIMED_OUT", true),
            (Code.NotFound, "VM_NOT_FOUND", true),
            (Code.NotFound, "FAULT_NOT_FOUND", false),
            (Code.FailedPrecondition, "RETRY_NOT_ALLOWED", false),
        })
        {
            var error = ErrorTranslator.Translate(WithDetails(code, reason, new ErrorInfo { Reason = reason, Domain = "memsvc" }));
            Assert.Equal((reason, over), (error.Reason!, FaultErrors.IsFaultOver(error)));
        }
    }
}
