using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>Keeps every log entry at or above <see cref="Minimum"/>, from every category, for a test to read.</summary>
public sealed class LogRecorder(LogLevel minimum) : ILoggerProvider, ILoggerFactory
{
    public LogLevel Minimum { get; } = minimum;

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

    private sealed class Recorder(LogRecorder owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue(new Entry(category, logLevel, eventId.Id, formatter(state, exception), exception));
            }
        }
    }
}
