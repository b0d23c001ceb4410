using Grpc.Core;

namespace MemSvc.Client.Errors;

/// <summary>
/// The events a watch needed next are no longer in the VM's journal (etcd's compaction rule): either the watch
/// asked to start before the oldest event held (SEQUENCE_COMPACTED) or it fell behind while streaming
/// (WATCHER_FELL_BEHIND). The caller decides whether to resynchronise from <see cref="OldestSequence"/>.
/// </summary>
public sealed class EventsCompactedException : MemSvcException
{
    /// <summary>Without detail (for serialisers and mocks).</summary>
    public EventsCompactedException()
    {
    }

    /// <summary>With <paramref name="message"/>.</summary>
    public EventsCompactedException(string message)
        : base(message)
    {
    }

    /// <summary>With <paramref name="message"/>, caused by <paramref name="innerException"/>.</summary>
    public EventsCompactedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The compaction <paramref name="error"/> the server returned, with the sequences it named.</summary>
    /// <param name="error">The translated error.</param>
    /// <param name="oldestSequence">The oldest sequence the journal still holds, when known.</param>
    /// <param name="nextSequence">The sequence the watch needed next, when known.</param>
    public EventsCompactedException(MemSvcException error, ulong? oldestSequence, ulong? nextSequence)
        : base(StatusCode.OutOfRange, error.Detail, error.Reason, error.Domain, error.Metadata, error.FieldViolations, error.InnerException)
    {
        OldestSequence = oldestSequence;
        NextSequence = nextSequence;
    }

    /// <summary>The oldest sequence the journal still holds (metadata <c>oldest_sequence</c>).</summary>
    public ulong? OldestSequence { get; }

    /// <summary>The sequence the watch needed next (metadata <c>next_sequence</c>, or the start asked for).</summary>
    public ulong? NextSequence { get; }
}
