using MemSvc.Core.Events;
using MemSvc.Server.Validation;
using Api = MemSvc.Contracts.V1;

namespace MemSvc.Server.Mapping;

/// <summary>WatchEvents requests and progress messages between the contract and Core.</summary>
internal static class WatchMapping
{
    public static WatchRequest ToCore(Api.WatchEventsRequest request)
    {
        var vmId = request.Vm.Length == 0 ? null : ResourceNames.ParseVm(request.Vm, "vm");
        var vmStarts = request.StartSequences.ToDictionary(
            start => ResourceNames.ParseVm(start.Key, "start_sequences"), start => start.Value, StringComparer.Ordinal);
        BookmarkSettings? bookmarks = null;
        if (request.ProgressMessages)
        {
            var interval = DurationField.ToTimeSpan(request.BookmarkInterval, "bookmark_interval");
            bookmarks = new BookmarkSettings(interval == TimeSpan.Zero ? BookmarkSettings.DefaultInterval : interval);
        }

        return new WatchRequest
        {
            VmId = vmId,
            VmUid = request.VmUid,
            StartSequence = request.StartSequence,
            Filter = EventMapping.ToCore(request.Filter),
            VmStarts = vmStarts,
            Positions = [.. request.Positions.Select(p => new VmPosition(ResourceNames.ParseVm(p.Vm, "positions"), p.VmUid, p.NextSequence))],
            Bookmarks = bookmarks,
        };
    }

    /// <summary>A progress message: made per watch (unlike events, nothing is shared), and rare by design.</summary>
    public static Api.WatchEventsResponse ToProto(WatchNotice notice) => notice switch
    {
        WatchNotice.Bookmark b => new Api.WatchEventsResponse { Bookmark = new Api.VmEventPosition { Vm = ResourceNames.Vm(b.VmId), VmUid = b.VmUid, NextSequence = b.NextSequence } },
        WatchNotice.VmEnded e => new Api.WatchEventsResponse
        {
            VmEnded = new Api.VmEnded { Vm = ResourceNames.Vm(e.VmId), VmUid = e.VmUid, Reason = EnumMapping.ToProto(e.Reason), NextSequence = e.NextSequence },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(notice), notice.GetType().Name, "unknown watch notice"),
    };
}
