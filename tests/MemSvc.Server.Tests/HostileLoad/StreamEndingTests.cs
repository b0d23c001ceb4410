using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MemSvc.Server.Errors;
using MemSvc.Server.Services;
using MemSvc.Server.Tests.Infrastructure;
using MemSvc.Server.Tests.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// D10: a deadline or a cancellation that arrived while WatchEvents was writing ended 13 of 1,000 watches INTERNAL
/// (and 7 UNAVAILABLE), each with an error-level log and a stack trace ("Can't write the message because the request
/// is complete"). A call its client ended is not a failure of the server: it ends DEADLINE_EXCEEDED or CANCELLED,
/// quietly.
/// </summary>
[Collection(nameof(HostileLoadCollection))]
public sealed class StreamEndingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Watches_ended_mid_stream_by_deadlines_and_cancellations_end_DEADLINE_EXCEEDED_or_CANCELLED_with_no_error_logged()
    {
        var log = new LogRecorder(LogLevel.Warning);
        var sent = new ConcurrentQueue<StatusCode>();
        await using var server = await RunningServer.StartAsync(builder =>
        {
            builder.Logging.AddProvider(log);
            builder.Services.AddSingleton(sent);
            builder.Services.Configure<GrpcServiceOptions>(grpc =>
            {
                grpc.Interceptors.Add<StatusRecorder>();
                var recorder = grpc.Interceptors[^1];
                grpc.Interceptors.RemoveAt(grpc.Interceptors.Count - 1);
                grpc.Interceptors.Insert(0, recorder);
            });
        });
        var clients = new Clients(server.LoopbackChannel());
        var vm = await Scenario.VmWithMemoryAsync(clients, "backlog");
        for (uint round = 0; round < 60; round++)
        {
            await Waits.RunToHaltAsync(clients, vm.Name, Waits.Chatty(round));
        }

        // 200 watches of the ~15,500-event backlog, each ended by its client mid-stream: bounded in count and time.
        var endings = new Dictionary<StatusCode, int>();
        var time = Stopwatch.StartNew();
        for (var i = 0; i < 200 && time.Elapsed < TimeSpan.FromSeconds(60); i++)
        {
            var ending = await WatchUntilEndedAsync(clients, vm.Name, i);
            endings[ending] = endings.GetValueOrDefault(ending) + 1;
        }

        Assert.True(
            endings.Keys.Order().SequenceEqual([StatusCode.Cancelled, StatusCode.DeadlineExceeded]),
            string.Join(", ", endings.Select(e => $"{e.Key} x{e.Value}")));
        Assert.Equal([StatusCode.Cancelled, StatusCode.DeadlineExceeded], sent.Distinct().Order());
        Assert.Empty(log.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}[{e.EventId}] {e.Message}: {e.Exception?.Message}"));
    }

    [Theory]
    [InlineData("its deadline passed", StatusCode.DeadlineExceeded)]
    [InlineData("its client cancelled it", StatusCode.Cancelled)]
    public async Task A_write_that_fails_because_the_call_is_over_ends_it_with_the_calls_own_status(string ending, StatusCode expected)
    {
        var log = new LogRecorder(LogLevel.Information);
        var interceptor = new ErrorMappingInterceptor(new Logger<ErrorMappingInterceptor>(log));
        using var cancel = new CancellationTokenSource();
        DateTime? deadline = ending == "its deadline passed" ? DateTime.UtcNow.AddSeconds(-1) : null;
        if (deadline is null)
        {
            await cancel.CancelAsync();
        }

        // What grpc-dotnet's writer throws once the deadline has completed the response, and before the call's
        // token is cancelled (the deadline completes the response first).
        var context = new TestCallContext("/memsvc.v1.EventService/WatchEvents", [], cancel.Token, deadline);
        var error = await Assert.ThrowsAsync<RpcException>(() => interceptor.ServerStreamingServerHandler<string, string>(
            "request", null!, context, (_, _, _) => throw new InvalidOperationException("Can't write the message because the request is complete.")));

        Assert.Equal(expected, error.StatusCode);
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Information);
    }

    [Theory]
    [InlineData("100m", 100 * TimeSpan.TicksPerMillisecond)]
    [InlineData("2S", 2 * TimeSpan.TicksPerSecond)]
    [InlineData("1H", TimeSpan.TicksPerHour)]
    [InlineData("250u", 250 * TimeSpan.TicksPerMicrosecond)]
    [InlineData("1000n", 10)]
    [InlineData("99999999H", int.MaxValue * TimeSpan.TicksPerMillisecond)]
    [InlineData("0S", -1)]
    [InlineData("123456789S", -1)]
    [InlineData("10x", -1)]
    [InlineData("-1S", -1)]
    [InlineData("S", -1)]
    public void A_watchs_grpc_timeout_is_read_as_grpc_dotnet_reads_it(string header, long ticks)
    {
        var valid = WatchDeadlines.TryDecode(header, out var timeout);

        Assert.Equal(ticks >= 0 ? (true, ticks) : (false, 0L), (valid, timeout.Ticks));
    }

    private static async Task<StatusCode> WatchUntilEndedAsync(Clients clients, string vm, int i)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        DateTime? deadline = (i % 4) switch
        {
            0 => DateTime.UtcNow.AddMilliseconds(10),
            1 => DateTime.UtcNow.AddMilliseconds(30),
            2 => DateTime.UtcNow.AddMilliseconds(100),
            _ => null,
        };
        using var call = clients.Events.WatchEvents(new() { Vm = vm, StartSequence = 1 }, deadline: deadline, cancellationToken: cancel.Token);
        try
        {
            for (var read = 0; await call.ResponseStream.MoveNext(cancel.Token); read++)
            {
                if (deadline is null && read == 100)
                {
                    await cancel.CancelAsync();
                }
            }

            return StatusCode.OK;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow >= deadline && e.Status.DebugException is IOException { Message: "The request was aborted." })
        {
            // grpc-dotnet's client, not the server: its deadline timer aborted the HTTP request while a read was in
            // flight, and the read's IOException won the race to name the status. The server's side of such a call
            // is among those the status recorder checks.
            return StatusCode.DeadlineExceeded;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>Records the status each watch ended with on the server, outside every server interceptor.</summary>
    private sealed class StatusRecorder(ConcurrentQueue<StatusCode> sent) : Interceptor
    {
        public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
            TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
        {
            try
            {
                await continuation(request, responseStream, context);
                sent.Enqueue(StatusCode.OK);
            }
            catch (RpcException e)
            {
                sent.Enqueue(e.StatusCode);
                throw;
            }
        }
    }
}
