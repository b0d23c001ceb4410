namespace MemSvc.Server.Hosting;

/// <summary>
/// MemSvc:SocketGroup: the socket (0660) and, when this server owns it, its directory (0750) get the group, so that
/// exactly its members reach the daemon, as with containerd's and Docker's socket groups.
/// </summary>
internal static class SocketGroup
{
    public static void Apply(string socketPath, string group)
    {
        var gid = PosixFiles.ResolveGroup(group)
            ?? throw new StartupRefusedException($"MemSvc:SocketGroup '{group}' is neither a gid nor a group in /etc/group.", StartupExit.Configuration);
        var directory = Path.GetDirectoryName(socketPath)!;
        if (PosixFiles.Lstat(directory) is { } stat && stat.Uid == PosixFiles.EffectiveUserId)
        {
            Change(directory, gid, group);
        }

        Change(socketPath, gid, group);
    }

    private static void Change(string path, uint gid, string group)
    {
        if (PosixFiles.ChangeGroup(path, gid) is { } errno)
        {
            throw new StartupRefusedException(
                $"Cannot give {path} the group {group} (gid {gid}): errno {errno}. The server's user must be root or a member of that group (docker run --group-add {gid}; Kubernetes supplementalGroups).",
                StartupExit.Configuration);
        }
    }
}
