using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Tests.Errors;

/// <summary>The SDK exposes the contract's ErrorReason, and its own reason constants are values of it.</summary>
public sealed class ErrorReasonTests
{
    private static MemSvcException WithReason(string? reason) =>
        new(StatusCode.NotFound, "gone", reason, "memsvc", new Dictionary<string, string>(), [], null);

    [Fact]
    public void A_known_reason_reads_as_its_enum_value()
    {
        Assert.Equal(ErrorReason.VmNotFound, WithReason("VM_NOT_FOUND").ErrorReason);
        Assert.Equal(ErrorReason.FaultTimedOut, WithReason("FAULT_TIMED_OUT").ErrorReason);
    }

    [Fact]
    public void No_reason_or_one_this_SDK_does_not_know_reads_as_unspecified()
    {
        Assert.Equal(ErrorReason.Unspecified, WithReason(null).ErrorReason);
        Assert.Equal(ErrorReason.Unspecified, WithReason("SOMETHING_NEWER").ErrorReason);
    }

    [Fact]
    public void The_SDK_reason_constants_are_contract_names()
    {
        string[] constants =
        [
            FaultErrors.AlreadyResolved, FaultErrors.TimedOut, FaultErrors.VmNotFound, ErrorTranslator.SequenceCompacted,
            ErrorTranslator.WatcherFellBehind, ErrorTranslator.VmReplaced, Client.Resilience.AdmissionRefusal.RateLimited,
            Client.Resilience.AdmissionRefusal.QuotaExceeded,
        ];

        Assert.All(constants, c => Assert.NotEqual(ErrorReason.Unspecified, ErrorReasonNames.Parse(c)));
    }
}
