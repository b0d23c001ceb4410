using System.Collections.Concurrent;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using MemSvc.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// Keeps real unary calls executing for as long as a test wants, so that "N calls in flight" is a state the test
/// sets up rather than a race it hopes to win. A call carrying the <see cref="Header"/> header (its value a tag)
/// stops inside every server interceptor, reports <see cref="HeldCall.Entered"/>, and waits for the test to end it
/// one way or another; <see cref="HeldCall.Finished"/> then reports that the server has completely done with it,
/// every interceptor's cleanup included.
/// </summary>
internal sealed class CallGate
{
    public const string Header = "x-test-hold";

    private readonly ConcurrentDictionary<string, HeldCall> _calls = new(StringComparer.Ordinal);

    public HeldCall this[string tag] => _calls.GetOrAdd(tag, _ => new HeldCall());

    /// <summary>Adds the gate to a server: the hold innermost, after every server interceptor; the finish report outermost.</summary>
    public static void Install(WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CallGate>();
        builder.Services.AddSingleton<HoldInterceptor>();
        builder.Services.AddSingleton<FinishInterceptor>();
        builder.Services.Configure<GrpcServiceOptions>(grpc =>
        {
            grpc.Interceptors.Add<FinishInterceptor>();
            var finish = grpc.Interceptors[^1];
            grpc.Interceptors.RemoveAt(grpc.Interceptors.Count - 1);
            grpc.Interceptors.Insert(0, finish);
            grpc.Interceptors.Add<HoldInterceptor>();
        });
    }

    /// <summary>Headers that make a call stop at the gate under <paramref name="tag"/>.</summary>
    public static Metadata Hold(string tag) => new() { { Header, tag } };

    /// <summary>How a held call ends once the test lets it go.</summary>
    public enum Ending
    {
        /// <summary>It goes on into its service and completes as it would have.</summary>
        Proceed,

        /// <summary>It fails with a CoreException (FAILED_PRECONDITION TEST_FAILURE), as a refused operation does.</summary>
        Fail,

        /// <summary>
        /// It waits for its call to be cancelled (the client cancelled, or its deadline passed) and throws as a
        /// handler that notices does. The test releases it after the cancellation, so the wait is not a race.
        /// </summary>
        ObserveCancellation,
    }

    public sealed class HeldCall
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<Ending> _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The call is executing and has passed every server interceptor (its in-flight slot is taken).</summary>
        public Task Entered => _entered.Task;

        /// <summary>The server is done with the call: every interceptor has run its cleanup.</summary>
        public Task Finished => _finished.Task;

        public void Release(Ending ending) => _released.SetResult(ending);

        /// <param name="stopping">The server is stopping: a test that failed before releasing its calls must not hold up the shutdown.</param>
        internal async Task WaitAsync(ServerCallContext context, CancellationToken stopping)
        {
            _entered.SetResult();
            switch (await _released.Task.WaitAsync(stopping).ConfigureAwait(false))
            {
                case Ending.Fail:
                    throw CoreException.FailedPrecondition("TEST_FAILURE", "the test failed this call");
                case Ending.ObserveCancellation:
                    await Task.Delay(Timeout.Infinite, context.CancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        internal void Finish() => _finished.SetResult();
    }
}
