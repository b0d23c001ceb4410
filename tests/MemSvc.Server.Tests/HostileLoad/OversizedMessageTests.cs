using Google.Protobuf;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Hosting;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D17: a request past MemSvc:MaxReceiveMessageBytes got grpc-dotnet's bare RESOURCE_EXHAUSTED "Received message
/// exceeds the maximum configured message size." with no ErrorInfo, though every error is to carry one.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class OversizedMessageTests
{
    private static readonly int Limit = new MemSvcOptions().MaxReceiveMessageBytes;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Cases => ["a 5 MiB WriteGuestMemory", "a 5 MiB name", "5 M attributes", "a watch filter of 3 M vCPUs"];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_message_past_the_limit_is_refused_RESOURCE_EXHAUSTED_MESSAGE_TOO_LARGE_naming_the_limit_and_its_size(string what)
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "big");

        IMessage request;
        Func<Task> call;
        switch (what)
        {
            case "a 5 MiB WriteGuestMemory":
                var write = new WriteGuestMemoryRequest { Vm = vm.Name, Gpa = 0, Data = ByteString.CopyFrom(new byte[5 * MiB]) };
                (request, call) = (write, () => clients.Memory.WriteGuestMemoryAsync(write, cancellationToken: Ct).ResponseAsync);
                break;
            case "a 5 MiB name":
                var get = new GetVmRequest { Name = "vms/" + new string('a', 5 << 20) };
                (request, call) = (get, () => clients.Vms.GetVmAsync(get, cancellationToken: Ct).ResponseAsync);
                break;
            case "5 M attributes":
                var set = new SetMemoryAttributesRequest { Vm = vm.Name, Gpa = 0, Size = Page };
                set.Attributes.AddRange(Enumerable.Repeat(MemoryAttribute.Private, 5_000_000));
                (request, call) = (set, () => clients.Memory.SetMemoryAttributesAsync(set, cancellationToken: Ct).ResponseAsync);
                break;
            default:
                var watch = new WatchEventsRequest { Vm = vm.Name, StartSequence = 1, Filter = new() };
                watch.Filter.Vcpus.AddRange(Enumerable.Range(0, 3_000_000).Select(i => (uint)i));
                (request, call) = (watch, () => FirstEventAsync(clients, watch));
                break;
        }

        var error = await RpcAssert.FailsAsync(call, StatusCode.ResourceExhausted, "MESSAGE_TOO_LARGE");
        var after = await clients.Vms.GetVmAsync(new() { Name = vm.Name }, cancellationToken: Ct);

        Assert.Equal(
            new Dictionary<string, string> { ["limit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), ["size"] = request.CalculateSize().ToString(System.Globalization.CultureInfo.InvariantCulture) },
            error.Info.Metadata);
        Assert.Equal(vm.LastEventSequence, after.Vm.LastEventSequence);
    }

    [Fact]
    public async Task A_message_at_the_limit_is_taken()
    {
        await using var server = await RunningServer.StartAsync();
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "edge");

        var written = await clients.Memory.WriteGuestMemoryAsync(new() { Vm = vm.Name, Gpa = 0, Data = ByteString.CopyFrom(new byte[4 * MiB]) }, cancellationToken: Ct);

        Assert.Equal(4 * MiB, written.Size);
    }

    private static async Task FirstEventAsync(Clients clients, WatchEventsRequest watch)
    {
        using var stream = clients.Events.WatchEvents(watch, cancellationToken: Ct);
        await stream.ResponseStream.MoveNext(Ct);
    }
}
