using System.Collections.Concurrent;
using MemSvc.Core.Logging;
using MemSvc.Core.Options;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Events.Files;

/// <summary>
/// The directory of journal files (one a VM incarnation, named by its uid) and the one thread that writes them in
/// the background. An append queues its journal here at most once until it is written, so the vCPU that appended
/// pays a queue push, never a write or an fsync. The writer wakes every millisecond while there is work, and for
/// 50 ms after, so that appends under load signal nobody (a wake-up is a syscall); only the first append after a
/// quiet spell wakes it.
/// </summary>
internal sealed class JournalStore : IDisposable
{
    public const string Extension = ".journal";

    private readonly ConcurrentQueue<EventJournal> _dirty = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _writer;
    private readonly ILogger _logger;
    private FileStream? _lock;
    private const int IdleRounds = 50;

    // 1 while the writer waits for a signal: only then does an append wake it.
    private int _sleeping;
    private volatile bool _stopping;

    public JournalStore(JournalOptions options, ILogger logger, bool lockNow = true)
    {
        Options = options;
        _logger = logger;
        Directory = Path.GetFullPath(options.Directory!);
        // Owner only: the files name owners and VMs, as the metrics do.
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        // Two processes on one directory would each take the other's live VMs for lost ones and write VM_LOST into
        // their files: the second is refused (an flock held as long as the store lives).
        if (lockNow)
        {
            Lock();
        }

        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "memsvc-journal-writer" };
        _writer.Start();
    }

    public string Directory { get; }

    /// <summary>
    /// The server instance that held the directory before this process (from the lock file), null when none wrote
    /// it (a fresh directory, or a release that did not): the process that lost every VM whose file does not say it
    /// was handed off, which is not the one that created the file once a VM has moved by handoff.
    /// </summary>
    public string? PreviousHolder { get; private set; }

    /// <summary>
    /// Takes the directory's lock (at start, or for a takeover once the process handing off has let go):
    /// IOException when another MemSvc process holds it. The lock file then names this instance
    /// (<see cref="PreviousHolder"/> is who it named before).
    /// </summary>
    public void Lock()
    {
        if (_lock is not null)
        {
            return;
        }

        FileStream file;
        try
        {
            file = new FileStream(Path.Combine(Directory, "memsvc.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"another MemSvc process uses the journal directory {Directory} ({e.Message})", e);
        }

        try
        {
            using (var reader = new StreamReader(file, leaveOpen: true))
            {
                var named = reader.ReadLine()?.Trim();
                PreviousHolder = string.IsNullOrEmpty(named) ? null : named;
            }

            file.SetLength(0);
            file.Write(System.Text.Encoding.ASCII.GetBytes(Options.InstanceId + "\n"));
            file.Flush(flushToDisk: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        _lock = file;
    }

    /// <summary>
    /// Lets go of the directory's lock (a process that handed its VMs off, just before it exits), and of its name in
    /// the lock file: a release before this one, taking over, would leave that name there, and a later start would
    /// take it for the process that lost what that release lost. (A clean stop keeps the name: the next start says
    /// which instance stopped. Only a release before this one started afresh on the directory, and killed, can then
    /// be reported by the name of the instance that stopped before it.)
    /// </summary>
    public void Unlock()
    {
        if (_lock is { } file)
        {
            try
            {
                file.SetLength(0);
            }
            catch (IOException)
            {
                // The name stays: a later start may name this instance for VMs it handed off, as before the name.
            }

            file.Dispose();
        }

        _lock = null;
    }

    public JournalOptions Options { get; }

    /// <summary>A file for a new VM incarnation; null (logged) when it cannot be made: the VM then runs with its journal in memory only.</summary>
    public JournalFile? Create(JournalFileHeader header)
    {
        var path = Path.Combine(Directory, header.VmUid + Extension);
        try
        {
            return JournalFile.Create(path, header, Options.MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CoreLog.JournalFileFailed(_logger, e, header.VmId, path);
            return null;
        }
    }

    /// <summary>The journal has events the file lacks; the writer thread writes them.</summary>
    public void MarkDirty(EventJournal journal)
    {
        _dirty.Enqueue(journal);
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            _wake.Set();
        }
    }

    /// <summary>
    /// Every journal file in the directory, read: those it refuses (another format version, not a journal) are
    /// logged and left untouched. A compaction's temporary file left by a kill is removed: the file it was to replace is whole.
    /// </summary>
    public List<(string Path, JournalFileContents Contents)> ReadAll()
    {
        foreach (var leftover in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension + ".tmp"))
        {
            File.Delete(leftover);
        }

        var read = new List<(string, JournalFileContents)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            JournalFileContents contents;
            try
            {
                contents = JournalFileReader.Read(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CoreLog.JournalFileFailed(_logger, e, "?", path);
                continue;
            }

            if (contents.Problem != JournalFileProblem.None)
            {
                CoreLog.JournalFileRefused(_logger, path, contents.RefusedBecause!);
                continue;
            }

            if (contents.DroppedBytes > 0)
            {
                CoreLog.JournalTailDropped(_logger, path, contents.DroppedBytes, contents.DroppedReason!);
            }

            read.Add((path, contents));
        }

        return read;
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _writer.Join();
        _wake.Dispose();
        _lock?.Dispose();
    }

    private void WriteLoop()
    {
        var idle = 0;
        while (true)
        {
            var wrote = false;
            while (_dirty.TryDequeue(out var journal))
            {
                journal.Persist();
                wrote = true;
            }

            if (_stopping)
            {
                return;
            }

            idle = wrote ? 0 : idle + 1;
            if (idle < IdleRounds)
            {
                // Appends of the next millisecond are written together, and signal nobody.
                Thread.Sleep(1);
                continue;
            }

            // The exchange is a full fence: an append that queued before it is seen below, one after it sees the flag.
            Interlocked.Exchange(ref _sleeping, 1);
            if (_dirty.IsEmpty && !_stopping)
            {
                _wake.WaitOne();
            }

            Volatile.Write(ref _sleeping, 0);
            idle = 0;
        }
    }
}
