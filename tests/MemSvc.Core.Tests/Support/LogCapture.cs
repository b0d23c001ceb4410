using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Tests.Support;

/// <summary>
/// A logger provider that keeps every record with its structured values, for tests that check what Core logs.
/// <see cref="Factory"/> puts it behind the real LoggerFactory, so level filtering is the host's.
/// </summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _records = new();

    /// <summary>Every record so far, in the order they were written.</summary>
    public IReadOnlyList<CapturedLog> Records => [.. _records];

    public ILoggerFactory Factory(LogLevel minimum) =>
        LoggerFactory.Create(logging => logging.AddProvider(this).SetMinimumLevel(minimum));

    /// <summary>The records whose "Vm" value is <paramref name="vm"/>.</summary>
    public List<CapturedLog> Of(string vm) => [.. Records.Where(r => r.Values.TryGetValue("Vm", out var v) && Equals(v, vm))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)
                : [];
            capture._records.Enqueue(new CapturedLog(category, eventId.Id, eventId.Name, logLevel, values, formatter(state, exception), exception));
        }
    }
}

/// <summary>One log record: its event id, level, structured values (by template name), message and exception.</summary>
internal sealed record CapturedLog(string Category, int EventId, string? EventName, LogLevel Level, Dictionary<string, object?> Values, string Message, Exception? Exception)
{
    public object? this[string key] => Values[key];
}
