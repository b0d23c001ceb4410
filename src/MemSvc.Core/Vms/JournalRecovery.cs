using System.Globalization;
using MemSvc.Core.Events;
using MemSvc.Core.Events.Files;
using MemSvc.Core.Logging;

namespace MemSvc.Core.Vms;

/// <summary>
/// At start, before any call: every journal file the directory holds belongs to a VM of an earlier process that did
/// not hand it off (a planned handoff's VMs are adopted with their files, and skipped here), so each is a lost VM. Its journal is
/// read back and ends with one VM_LOST event, at the sequence after the last one written, so a watcher resuming from
/// any sequence it was given sees the rest and then why the VM is gone, never a sequence counted again. A file a
/// previous start already ended this way is taken as it is: one VM_LOST per VM, however many restarts follow.
/// </summary>
internal static class JournalRecovery
{
    public static void Run(CoreContext context, JournalStore store, IReadOnlySet<string>? adopted = null)
    {
        var options = context.Options;
        var now = options.TimeProvider.GetUtcNow();
        foreach (var (path, contents) in store.ReadAll())
        {
            var header = contents.Header!;
            if (adopted?.Contains(header.VmUid) == true)
            {
                continue;
            }

            var expires = (contents.IsLost ? contents.Events[^1].Time : now) + options.Journal.LostRetention;
            if (expires <= now)
            {
                Delete(context, header, path);
                continue;
            }

            var journal = new EventJournal(header.VmId, header.VmUid, options.JournalCapacity, options.TimeProvider, context.Metrics, context.Logger, context.JournalBudgetOf(header.Owner));
            journal.Restore(contents.Events);
            if (!contents.IsLost)
            {
                try
                {
                    journal.AttachFile(JournalFile.Reopen(path, contents, options.Journal.MaxFileBytes), store);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Reported all the same, from memory: the next start may report it again, at the same sequence.
                    CoreLog.JournalFileFailed(context.Logger, e, header.VmId, path);
                }

                // The last process that held the directory lost the VM; a file from a release that did not name
                // itself in the lock file falls back to the instance that created the file.
                var instance = store.PreviousHolder ?? header.InstanceId;
                var reason = Reason(instance, contents.Stopped);
                var lost = journal.Append(new EventPayload.VmLost(instance, reason))!;
                journal.Persist();
                journal.CloseFile(null);
                CoreLog.VmLost(context.Logger, header.VmId, header.VmUid, header.Owner, reason, lost.Sequence, expires);
            }

            journal.Complete(VmEndReason.Lost, releaseBudget: false);
            context.Lost.Add(new LostVm(new VmKey(header.VmId, header.Owner), header.VmUid, journal, path, contents.IsLost ? contents.Events[^1].Time : now, expires));
        }
    }

    private static void Delete(CoreContext context, JournalFileHeader header, string path)
    {
        try
        {
            File.Delete(path);
            CoreLog.LostJournalDropped(context.Logger, header.VmId, header.VmUid, "its retention after the loss passed while no MemSvc ran");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CoreLog.JournalFileFailed(context.Logger, e, header.VmId, path);
        }
    }

    private static string Reason(string instance, DateTimeOffset? stopped) => stopped is { } at
        ? $"daemon restarted: instance {instance} stopped at {at.ToString("O", CultureInfo.InvariantCulture)} without handing off its VMs"
        : $"daemon restarted: instance {instance} ended without handing off its VMs (killed or crashed)";
}
