using Grpc.Core;
using MemSvc.Core.Errors;
using MemSvc.Server.Identity;
using MemSvc.Server.Security;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// <see cref="InFlightLimit"/> called directly: which calls it counts, what a refusal says, and that the slot comes
/// back however the handler ends. The caller is the request's x-test-principal header, which is its own owner.
/// </summary>
public sealed class InFlightLimitInterceptorTests
{
    private const string CreateVm = "/memsvc.v1.VmService/CreateVm";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Endings => ["returns", "throws at once", "faults later", "is cancelled", "reports DEADLINE_EXCEEDED"];

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task The_slot_is_held_while_the_handler_runs_and_given_back_when_it(string ending)
    {
        var (limit, counter) = Limit(2);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heldWhileRunning = -1;
        UnaryServerMethod<string, string> handler = (_, context) =>
        {
            heldWhileRunning = counter.CountOf("alice");
            return ending == "throws at once"
                ? throw CoreException.NotFound("VM_NOT_FOUND", "vm 'x' not found")
                : EndAsync(ending, release.Task, context.CancellationToken);
        };

        var call = limit.UnaryServerHandler("request", Context(CreateVm, "alice", cancel.Token), handler);
        var heldBeforeTheEnd = counter.CountOf("alice");
        release.SetResult();
        await cancel.CancelAsync();
        var outcome = await Record.ExceptionAsync(() => call);

        // A handler that throws before its first await has ended, slot given back, by the time the call returns.
        Assert.Equal((1, ending == "throws at once" ? 0 : 1), (heldWhileRunning, heldBeforeTheEnd));
        Assert.Equal(ExpectedOutcome(ending), outcome?.GetType());
        Assert.Equal((0, 0), (counter.CountOf("alice"), counter.OwnersInFlight));
    }

    [Fact]
    public async Task A_call_past_the_limit_fails_QUOTA_EXCEEDED_before_its_handler_and_takes_no_slot()
    {
        var (limit, counter) = Limit(2);
        counter.TryEnter("alice");
        counter.TryEnter("alice");
        var handlerRan = false;

        var e = await Assert.ThrowsAsync<CoreException>(() => limit.UnaryServerHandler<string, string>(
            "request", Context(CreateVm, "alice", Ct), (_, _) => { handlerRan = true; return Task.FromResult("done"); }));
        var bobs = await limit.UnaryServerHandler<string, string>("request", Context(CreateVm, "bob", Ct), (_, _) => Task.FromResult("done"));

        Assert.Equal((ErrorKind.ResourceExhausted, "QUOTA_EXCEEDED", (string?)null), (e.Kind, e.Reason, e.Field));
        Assert.Equal(new Dictionary<string, string> { ["quota"] = "max_in_flight_requests_per_owner", ["limit"] = "2", ["requested"] = "3" }, e.Metadata);
        Assert.Equal("quota max_in_flight_requests_per_owner is 2; this call would need 3", e.Message);
        Assert.False(handlerRan);
        Assert.Equal("done", bobs);
        Assert.Equal((2, 0), (counter.CountOf("alice"), counter.CountOf("bob")));
    }

    [Theory]
    [InlineData("/memsvc.v1.EventService/ResolveFault")]
    [InlineData("/grpc.health.v1.Health/Check")]
    [InlineData("/memsvc.bench.v1.BaselineService/Echo")]
    public async Task A_call_outside_the_counted_API_runs_at_the_limit_without_asking_who_calls(string method)
    {
        var (limit, counter) = Limit(1);
        counter.TryEnter("alice");
        var heldWhileRunning = -1;

        // No principal header: the resolver would fail the call had the limit asked who is calling.
        var answer = await limit.UnaryServerHandler<string, string>("request", new TestCallContext(method, [], Ct), (_, _) =>
        {
            heldWhileRunning = counter.CountOf("alice");
            return Task.FromResult("done");
        });

        Assert.Equal(("done", 1), (answer, heldWhileRunning));
        Assert.Equal(1, counter.OwnersInFlight);
    }

    [Fact]
    public async Task A_stream_runs_at_the_limit_and_takes_no_slot()
    {
        var (limit, counter) = Limit(1);
        counter.TryEnter("alice");
        var heldWhileStreaming = -1;

        await limit.ServerStreamingServerHandler<string, string>("request", null!, Context("/memsvc.v1.EventService/WatchEvents", "alice", Ct), (_, _, _) =>
        {
            heldWhileStreaming = counter.CountOf("alice");
            return Task.CompletedTask;
        });

        Assert.Equal(1, heldWhileStreaming);
    }

    /// <summary>How a handler that has started ends, once <paramref name="release"/> completes or the call is cancelled.</summary>
    private static async Task<string> EndAsync(string ending, Task release, CancellationToken cancelled)
    {
        switch (ending)
        {
            case "faults later":
                await release;
                throw new InvalidOperationException("a bug");
            case "is cancelled":
                await Task.Delay(Timeout.Infinite, cancelled);
                return "never";
            case "reports DEADLINE_EXCEEDED":
                await release;
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline exceeded"));
            default:
                await release;
                return "done";
        }
    }

    private static Type? ExpectedOutcome(string ending) => ending switch
    {
        "returns" => null,
        "throws at once" => typeof(CoreException),
        "faults later" => typeof(InvalidOperationException),
        "is cancelled" => typeof(TaskCanceledException),
        _ => typeof(RpcException),
    };

    private static (InFlightLimit Limit, InFlightCounter Counter) Limit(int max)
    {
        var counter = new InFlightCounter(max);
        var resolver = new PrincipalHeaderResolver(new CallerMapper(Options.Create(new SecurityOptions())));
        return (new InFlightLimit(resolver, counter), counter);
    }

    private static TestCallContext Context(string method, string principal, CancellationToken cancellationToken) =>
        new(method, [new Metadata.Entry(PrincipalHeaderResolver.Header, principal)], cancellationToken);
}
