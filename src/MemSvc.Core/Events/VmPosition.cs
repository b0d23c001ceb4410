namespace MemSvc.Core.Events;

/// <summary>
/// A place in one VM's journal: <paramref name="NextSequence"/> is the first sequence a watch from here delivers,
/// in the incarnation <paramref name="VmUid"/> of that name (empty: whichever VM has the name). A listing returns
/// one per VM so that the watch that follows it continues with no gap and no repeat.
/// </summary>
public sealed record VmPosition(string VmId, string VmUid, ulong NextSequence);
