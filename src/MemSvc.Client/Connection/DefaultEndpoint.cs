namespace MemSvc.Client.Connection;

/// <summary>
/// Where the server listens when nobody says: the same places, in the same order, that the server picks its
/// socket from (the daemon's /run/memsvc socket, else the fallbacks a non-root server uses).
/// </summary>
public static class DefaultEndpoint
{
    /// <summary>The daemon's socket, where a packaged or containerised MemSvc listens.</summary>
    public const string SocketPath = "/run/memsvc/memsvc.sock";

    /// <summary>The environment variable memsvcctl reads a socket path from.</summary>
    public const string SocketVariable = "MEMSVC_SOCKET";

    /// <summary>The environment variable memsvcctl reads an http(s) address from.</summary>
    public const string AddressVariable = "MEMSVC_ADDRESS";

    /// <summary>The candidate socket paths, most preferred first.</summary>
    public static IReadOnlyList<string> SocketCandidates(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var candidates = new List<string> { SocketPath };
        var runtimeDir = environment("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtimeDir) && Path.IsPathFullyQualified(runtimeDir))
        {
            candidates.Add(Path.Combine(runtimeDir, "memsvc", "memsvc.sock"));
        }

        candidates.Add(Path.Combine(Path.GetTempPath(), $"memsvc-{Environment.UserName}", "memsvc.sock"));
        return candidates;
    }

    /// <summary>
    /// The first candidate that exists and, for a fallback, whose directory nobody else may write to; the daemon's
    /// path when none does (the error then names it).
    /// </summary>
    public static string ResolveSocket(Func<string, string?> environment) =>
        SocketCandidates(environment).FirstOrDefault(c => File.Exists(c) && (c == SocketPath || !WritableByOthers(c))) ?? SocketPath;

    /// <summary>
    /// The uid that must serve <paramref name="socketPath"/> (for <see cref="MemSvcClientOptions.SocketServerUid"/>):
    /// ours for a fallback candidate, since a non-root server of ours listens there and a directory in the temporary
    /// folder may have been made by another user; null for the daemon's path, whose server runs as its own user.
    /// </summary>
    public static uint? RequiredServerUid(string socketPath, Func<string, string?> environment) =>
        SocketCandidates(environment).Skip(1).Contains(socketPath) ? PeerCredentials.EffectiveUid : null;

    private static bool WritableByOthers(string socketPath) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(Path.GetDirectoryName(socketPath)!) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
}
