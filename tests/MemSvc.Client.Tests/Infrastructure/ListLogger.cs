using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Tests.Infrastructure;

/// <summary>A logger that keeps every entry (event id, level, message, exception), for asserting what was logged.</summary>
public sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message, Exception? Exception)> _entries = new();

    public IReadOnlyList<(int EventId, LogLevel Level, string Message, Exception? Exception)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue((eventId.Id, logLevel, formatter(state, exception), exception));
    }
}
