using System.Reflection;
using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Hypervisor;
using MemSvc.Server.Errors;

namespace MemSvc.Server.Tests.Contract;

/// <summary>
/// The reasons the server can put in ErrorInfo and the contract's memsvc.v1.ErrorReason are one set: a reason
/// added in code without the proto (or the proto without code) fails here.
/// </summary>
public sealed class ErrorReasonContractTests
{
    [Fact]
    public void Every_reason_the_server_can_produce_is_a_value_of_the_contract_and_every_value_is_produced()
    {
        var contract = ErrorReasonNames.All.Select(ErrorReasonNames.Of).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(contract, Produced().Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Names_are_the_proto_names_and_parse_back()
    {
        Assert.Equal("VM_NOT_FOUND", ErrorReasonNames.Of(ErrorReason.VmNotFound));
        Assert.Equal("KERNEL_ERROR", ErrorReasonNames.Of(ErrorReason.KernelError));
        Assert.Equal(ErrorReason.UserMemory2Unsupported, ErrorReasonNames.Parse("USER_MEMORY2_UNSUPPORTED"));
        Assert.Equal(ErrorReason.Unspecified, ErrorReasonNames.Parse("KERNEL_EINVAL"));
        Assert.Equal(ErrorReason.Unspecified, ErrorReasonNames.Parse(null));
        Assert.DoesNotContain(ErrorReason.Unspecified, ErrorReasonNames.All);
    }

    [Fact]
    public void An_errno_without_a_precise_reason_is_KERNEL_ERROR_whatever_the_errno()
    {
        Assert.Equal(
            ["KERNEL_ERROR", "KERNEL_ERROR", "MEMORY_REGION_OVERLAP"],
            [
                KernelErrorMeanings.Of("KVM_RUN", Errno.EIO).Reason,
                KernelErrorMeanings.Of("KVM_SET_USER_MEMORY_REGION2", Errno.EPERM).Reason,
                KernelErrorMeanings.Of("KVM_SET_USER_MEMORY_REGION2", Errno.EEXIST).Reason,
            ]);
    }

    // Core's constants, the server's own and the kernel table's: every place a reason is written. A throw site
    // that spelled a reason inline would escape this, which is why none does (reasons are always these constants).
    private static IEnumerable<string> Produced() =>
        Strings(typeof(ErrorReasons), BindingFlags.Public | BindingFlags.Static)
            .Concat(Strings(typeof(ServerReasons), BindingFlags.Public | BindingFlags.Static))
            .Concat(KernelErrorMeanings.AllReasons)
            .Distinct(StringComparer.Ordinal);

    private static IEnumerable<string> Strings(Type type, BindingFlags flags) =>
        type.GetFields(flags).Where(f => f.FieldType == typeof(string)).Select(f => (string)f.GetValue(null)!);
}
