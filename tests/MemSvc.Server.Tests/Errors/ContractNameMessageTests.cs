using MemSvc.Contracts.V1;
using MemSvc.Core.Errors;
using MemSvc.Server.Validation;

namespace MemSvc.Server.Tests.Errors;

/// <summary>
/// Error messages name enum values as the .proto spells them: a grpc-js client read "flags lists Mmap twice", a C#
/// member name it has never seen (interop review, I10).
/// </summary>
public sealed class ContractNameMessageTests
{
    [Fact]
    public void A_repeated_flag_is_named_as_the_contract_spells_it()
    {
        var refused = Assert.Throws<CoreException>(() => Require.DistinctSpecified([GuestMemfdFlag.Mmap, GuestMemfdFlag.Mmap], "flags"));

        Assert.Equal(("DUPLICATE_VALUE", "flags lists GUEST_MEMFD_FLAG_MMAP twice"), (refused.Reason, refused.Message));
    }

    [Fact]
    public void An_unspecified_kind_in_a_filter_is_named_as_the_contract_spells_it()
    {
        var refused = Assert.Throws<CoreException>(() => Require.DistinctSpecified([EventKind.MemoryFault, EventKind.Unspecified], "filter.kinds"));

        Assert.Equal(("INVALID_ENUM_VALUE", "filter.kinds must not list EVENT_KIND_UNSPECIFIED"), (refused.Reason, refused.Message));
    }

    [Fact]
    public void A_number_the_contract_does_not_define_is_given_as_the_number()
    {
        Assert.Equal("99", ContractNames.Of((VmType)99));
    }
}
