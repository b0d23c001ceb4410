using MemSvc.Core.Identity;
using MemSvc.Core.Logging;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Vms;

/// <summary>
/// The lost VMs' journals by uid, with their owners' namespaces respected as the registry does: a caller finds only
/// its own, an admin any. One name may have several (lost in successive restarts); the newest answers for the name.
/// </summary>
internal sealed class LostVms(TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan MaxTimerStep = TimeSpan.FromDays(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LostVm> _byUid = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byUid.Count;
            }
        }
    }

    public void Add(LostVm vm)
    {
        lock (_lock)
        {
            _byUid[vm.Uid] = vm;
        }

        Arm(vm);
    }

    // A timer cannot wait more than about 49 days: a longer retention is waited for in steps.
    private void Arm(LostVm vm)
    {
        var due = vm.ExpiresAt - time.GetUtcNow();
        var step = due < TimeSpan.Zero ? TimeSpan.Zero : due > MaxTimerStep ? MaxTimerStep : due;
        vm.Expiry?.Dispose();
        vm.Expiry = time.CreateTimer(_ => Expire(vm), null, step, Timeout.InfiniteTimeSpan);
    }

    private void Expire(LostVm vm)
    {
        if (time.GetUtcNow() < vm.ExpiresAt)
        {
            Arm(vm);
            return;
        }

        Drop(vm, "its retention after the loss passed");
    }

    /// <summary>The caller's lost VM of that name (of that uid, when one is named), newest first; null when none.</summary>
    public LostVm? Find(CallerIdentity caller, string vmId, string? vmUid = null)
    {
        lock (_lock)
        {
            return _byUid.Values
                .Where(v => v.Id == vmId && (v.Owner == caller.Identity || caller.IsAdmin) && (string.IsNullOrEmpty(vmUid) || v.Uid == vmUid))
                .OrderByDescending(v => v.Owner == caller.Identity)
                .ThenByDescending(v => v.LostAt)
                .FirstOrDefault();
        }
    }

    /// <summary>DeleteVm of a name no VM holds: every lost journal of the caller's name goes; false when there was none.</summary>
    public bool DeleteAll(CallerIdentity caller, string vmId)
    {
        List<LostVm> gone;
        lock (_lock)
        {
            var owner = _byUid.Values.Any(v => v.Id == vmId && v.Owner == caller.Identity) || !caller.IsAdmin
                ? caller.Identity
                : _byUid.Values.FirstOrDefault(v => v.Id == vmId)?.Owner;
            gone = [.. _byUid.Values.Where(v => v.Id == vmId && v.Owner == owner)];
        }

        foreach (var vm in gone)
        {
            Drop(vm, "DeleteVm");
        }

        return gone.Count > 0;
    }

    /// <summary>Drops every lost journal from memory, keeping the files (the daemon stops; the next one reads them again).</summary>
    public void Close()
    {
        List<LostVm> all;
        lock (_lock)
        {
            all = [.. _byUid.Values];
            _byUid.Clear();
        }

        foreach (var vm in all)
        {
            vm.Expiry?.Dispose();
            vm.Journal.ReleaseBudget();
        }
    }

    private void Drop(LostVm vm, string why)
    {
        lock (_lock)
        {
            if (!_byUid.Remove(vm.Uid))
            {
                return;
            }
        }

        vm.Expiry?.Dispose();
        vm.Journal.ReleaseBudget();
        try
        {
            File.Delete(vm.FilePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CoreLog.JournalFileFailed(logger, e, vm.Id, vm.FilePath);
        }

        CoreLog.LostJournalDropped(logger, vm.Id, vm.Uid, why);
    }
}
