using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Errors;

/// <summary>
/// Every RPC refuses bad input with the exact status, ErrorInfo (reason, domain memsvc, errno and operation for
/// backend errors) and BadRequest field, and a refused call changes nothing a client can observe.
/// </summary>
public sealed class BadInputTests(BadInputServer fixture) : IClassFixture<BadInputServer>
{
    public static TheoryData<string> Cases => [.. BadInputCase.All.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_fails_exactly_and_changes_nothing(string name)
    {
        var ct = TestContext.Current.CancellationToken;
        var badCase = BadInputCase.All[name];
        var before = await StateSnapshot.TakeAsync(fixture.Clients);

        var error = await RpcAssert.FailsAsync(() => badCase.Call(fixture.Clients, ct), badCase.Code, badCase.Reason, badCase.Field);

        if (badCase.Errno is { } errno)
        {
            Assert.Equal(errno, error.Info.Metadata["errno"]);
            Assert.False(string.IsNullOrEmpty(error.Info.Metadata["operation"]));
        }
        else
        {
            Assert.False(error.Info.Metadata.ContainsKey("errno"));
        }

        Assert.Equal(before, await StateSnapshot.TakeAsync(fixture.Clients));
    }
}
