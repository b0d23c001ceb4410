using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MemSvc.Client.Tests.Infrastructure;

/// <summary>A logger factory whose loggers all write to one <see cref="ListLogger"/>, keeping the categories asked for.</summary>
public sealed class ListLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<string> _categories = new();

    public ListLogger Logger { get; } = new();

    public IReadOnlyCollection<string> Categories => [.. _categories.Distinct()];

    public ILogger CreateLogger(string categoryName)
    {
        _categories.Enqueue(categoryName);
        return Logger;
    }

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}
