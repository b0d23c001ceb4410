using System.Net.Sockets;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Where the Unix domain socket goes. The configured path is used as is, except the default one: a fresh
/// machine's non-root user cannot write /run/memsvc, and the server must still start there. A fallback directory
/// (under $XDG_RUNTIME_DIR or the temporary folder) is used only when this user owns it and nobody else may write
/// it: another local user who made /tmp/memsvc-$USER first could otherwise put their own socket where clients look.
/// </summary>
/// <param name="Path">The socket's path.</param>
/// <param name="FallbackFrom">The default path that could not be used, or null when <paramref name="Path"/> is the configured one.</param>
/// <param name="RemovedStale">A socket no server answered on was there and was removed: the previous server died without cleaning up.</param>
internal sealed record SocketLocation(string Path, string? FallbackFrom, bool RemovedStale = false)
{
    /// <summary>Directories hold sockets only for their owner and group; the socket itself is 0660.</summary>
    public const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    public const UnixFileMode SocketMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <param name="configured">MemSvc:SocketPath.</param>
    /// <param name="takingOver">
    /// This server takes over from the one on the socket (a planned handoff): a live socket there is that server's,
    /// which the takeover removes once that server has exited, before anything binds.
    /// </param>
    public static SocketLocation Choose(string configured, bool takingOver = false)
    {
        if (TryPrepare(configured, out var removedStale, takingOver) || configured != MemSvcOptions.DefaultSocketPath)
        {
            // A configured path that cannot be prepared fails at bind time, with the operating system's reason.
            return new SocketLocation(configured, null, removedStale);
        }

        var candidates = Fallbacks();
        var refused = new List<string> { $"{configured}: not writable by this user" };
        foreach (var candidate in candidates)
        {
            if (UnsafeDirectory(candidate) is { } why)
            {
                refused.Add(why);
            }
            else if (TryPrepare(candidate, out removedStale, takingOver) && UnsafeDirectory(candidate) is null)
            {
                return new SocketLocation(candidate, configured, removedStale);
            }
            else
            {
                refused.Add($"{candidate}: {UnsafeDirectory(candidate) ?? "not writable"}");
            }
        }

        throw new StartupRefusedException(
            $"No safe place for the Unix socket ({string.Join("; ", refused)}). Set MemSvc:SocketPath to a directory this user owns, or give it {MemSvcOptions.DefaultSocketPath}'s directory.", StartupExit.ListenerUnavailable);
    }

    /// <summary>Where a server of <paramref name="configured"/> may have its socket: that path, then (for the default path) the fallbacks in order.</summary>
    public static IEnumerable<string> Places(string configured) =>
        configured == MemSvcOptions.DefaultSocketPath ? [configured, .. Fallbacks()] : [configured];

    // The places the default path falls back to, in order, when /run/memsvc is not writable.
    private static List<string> Fallbacks()
    {
        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(runtimeDir) && System.IO.Path.IsPathFullyQualified(runtimeDir))
        {
            candidates.Add(System.IO.Path.Combine(runtimeDir, "memsvc", "memsvc.sock"));
        }

        candidates.Add(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"memsvc-{Environment.UserName}", "memsvc.sock"));
        return candidates;
    }

    /// <summary>Why the directory of <paramref name="socketPath"/> must not hold our socket, or null when it may (or does not exist yet).</summary>
    public static string? UnsafeDirectory(string socketPath)
    {
        var directory = System.IO.Path.GetDirectoryName(socketPath)!;
        if (PosixFiles.Lstat(directory) is not { } stat)
        {
            return null;
        }

        if (!stat.IsDirectory)
        {
            return $"{directory} is not a directory (a symlink or file another user may control)";
        }

        if (stat.Uid != PosixFiles.EffectiveUserId)
        {
            return $"{directory} belongs to uid {stat.Uid}, not to this server's uid {PosixFiles.EffectiveUserId}";
        }

        return (stat.Mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0
            ? $"{directory} is writable by others (mode {Convert.ToString((int)stat.Mode, 8)})"
            : null;
    }

    /// <summary>
    /// Creates the parent directory and removes a stale socket left by a previous run; refuses to take over the
    /// socket of a server that still answers on it.
    /// </summary>
    public static bool TryPrepare(string socketPath) => TryPrepare(socketPath, out _);

    /// <inheritdoc cref="TryPrepare(string)"/>
    public static bool TryPrepare(string socketPath, out bool removedStale, bool takingOver = false)
    {
        removedStale = false;
        try
        {
            var directory = System.IO.Path.GetDirectoryName(socketPath)!;
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, DirectoryMode);
            }

            var probe = System.IO.Path.Combine(directory, $".probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            if (File.Exists(socketPath) && !takingOver)
            {
                if (IsLive(socketPath))
                {
                    throw new StartupRefusedException($"Another server listens on {socketPath}; stop it or set MemSvc:SocketPath.", StartupExit.ListenerUnavailable);
                }

                File.Delete(socketPath);
                removedStale = true;
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsLive(string socketPath)
    {
        using var socket = new Socket(
            AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
