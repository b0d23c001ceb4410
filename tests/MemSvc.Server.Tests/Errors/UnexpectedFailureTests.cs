using System.Collections.Concurrent;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Core.Identity;
using MemSvc.Server.Identity;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemSvc.Server.Tests.Errors;

/// <summary>A failure that is nobody's error kind: the client learns only INTERNAL, the log gets everything.</summary>
public sealed class UnexpectedFailureTests
{
    [Fact]
    public async Task An_unexpected_exception_becomes_INTERNAL_without_its_details_and_is_logged()
    {
        var logs = new RecordingLoggerProvider();
        await using var server = await RunningServer.StartAsync(builder =>
        {
            builder.Services.AddSingleton<ICallerResolver, BrokenCallerResolver>();
            builder.Logging.AddProvider(logs);
        });
        var clients = new Clients(server.LoopbackChannel());

        var error = await RpcAssert.FailsAsync(
            () => clients.Vms.ListVmsAsync(new ListVmsRequest(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync, StatusCode.Internal, "INTERNAL");

        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        var logged = Assert.Single(logs.Entries, e => e.EventId == 11);
        Assert.Equal(("/memsvc.v1.VmService/ListVms", "secret: /etc/memsvc/key"), (logged.Message[..logged.Message.IndexOf(' ', StringComparison.Ordinal)], logged.Exception!.Message));
    }

    private sealed class BrokenCallerResolver : ICallerResolver
    {
        public CallerIdentity Resolve(ServerCallContext context) => throw new InvalidOperationException("secret: /etc/memsvc/key");
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        public ConcurrentBag<(int EventId, string Message, Exception? Exception)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Recorder(this);

        public void Dispose()
        {
        }

        private sealed class Recorder(RecordingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    owner.Entries.Add((eventId.Id, formatter(state, exception), exception));
                }
            }
        }
    }
}
