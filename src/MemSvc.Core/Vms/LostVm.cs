using MemSvc.Core.Events;

namespace MemSvc.Core.Vms;

/// <summary>
/// A VM that died with an earlier daemon process: no VM any more (GetVm answers NOT_FOUND VM_LOST, ListVms leaves it
/// out, its name is free for a new VM), only its journal, ended by VM_LOST, watchable under its name and uid until
/// DeleteVm of its name or <see cref="Options.JournalOptions.LostRetention"/> after the loss drops it.
/// </summary>
internal sealed class LostVm(VmKey key, string uid, EventJournal journal, string filePath, DateTimeOffset lostAt, DateTimeOffset expiresAt)
{
    public VmKey Key => key;

    public string Id => key.Id;

    public string Owner => key.Owner;

    public string Uid => uid;

    public EventJournal Journal => journal;

    /// <summary>Its journal file, closed: read again at the next start, removed when the journal is dropped.</summary>
    public string FilePath => filePath;

    public DateTimeOffset LostAt => lostAt;

    public DateTimeOffset ExpiresAt => expiresAt;

    public ITimer? Expiry { get; set; }
}
