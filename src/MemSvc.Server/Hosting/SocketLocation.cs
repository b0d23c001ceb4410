using System.Net.Sockets;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Where the Unix domain socket goes. The configured path is used as is, except the default one: a fresh
/// machine's non-root user cannot write /run/memsvc, and the server must still start there.
/// </summary>
/// <param name="Path">The socket's path.</param>
/// <param name="FallbackFrom">The default path that could not be used, or null when <paramref name="Path"/> is the configured one.</param>
internal sealed record SocketLocation(string Path, string? FallbackFrom)
{
    /// <summary>Directories hold sockets only for their owner and group; the socket itself is 0660.</summary>
    public const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    public const UnixFileMode SocketMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    public static SocketLocation Choose(string configured)
    {
        if (TryPrepare(configured) || configured != MemSvcOptions.DefaultSocketPath)
        {
            // A configured path that cannot be prepared fails at bind time, with the operating system's reason.
            return new SocketLocation(configured, null);
        }

        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(runtimeDir) && System.IO.Path.IsPathFullyQualified(runtimeDir))
        {
            candidates.Add(System.IO.Path.Combine(runtimeDir, "memsvc", "memsvc.sock"));
        }

        candidates.Add(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"memsvc-{Environment.UserName}", "memsvc.sock"));
        foreach (var candidate in candidates)
        {
            if (TryPrepare(candidate))
            {
                return new SocketLocation(candidate, configured);
            }
        }

        // Nothing writable: bind the default and let Kestrel's error say why.
        return new SocketLocation(configured, null);
    }

    /// <summary>
    /// Creates the parent directory and removes a stale socket left by a previous run; refuses to take over the
    /// socket of a server that still answers on it.
    /// </summary>
    public static bool TryPrepare(string socketPath)
    {
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
            if (File.Exists(socketPath))
            {
                if (IsLive(socketPath))
                {
                    throw new StartupRefusedException($"Another server listens on {socketPath}; stop it or set MemSvc:SocketPath.", StartupExit.ListenerUnavailable);
                }

                File.Delete(socketPath);
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
