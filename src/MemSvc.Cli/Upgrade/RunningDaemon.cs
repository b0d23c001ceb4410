using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MemSvc.Cli.Upgrade;

/// <summary>
/// The MemSvc serving on a socket, as /proc shows it: its pid (SO_PEERCRED of the socket), the command that started
/// it (split into the program and its configuration arguments), its environment and working directory. These are
/// its configuration (.NET reads appsettings from the working directory, then MemSvc__* variables, then --MemSvc:*
/// arguments), so a new process started with them plus TakeOver is configured as the running one is.
/// </summary>
internal sealed record RunningDaemon(int Pid, IReadOnlyList<string> Program, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory)
{
    private const string TakeOverKey = "MemSvc:Handoff:TakeOver";

    /// <summary>The daemon listening on <paramref name="socketPath"/>; <see cref="IOException"/> when none answers or /proc hides it.</summary>
    public static RunningDaemon Find(string socketPath)
    {
        var pid = ListenerPid(socketPath);
        var proc = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        string[] argv;
        byte[] environ;
        try
        {
            argv = Split(File.ReadAllBytes(proc + "/cmdline"));
            environ = File.ReadAllBytes(proc + "/environ");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"the MemSvc on {socketPath} is pid {pid}, whose command line and environment this user may not read ({e.Message}): run memsvcctl as the daemon's user", e);
        }

        if (argv.Length == 0)
        {
            throw new IOException($"pid {pid}, listening on {socketPath}, has exited or is not a program");
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Split(environ))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                environment[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        var split = ProgramLength(argv);
        return new RunningDaemon(pid, argv[..split], WithoutTakeOver(argv[split..]), environment, WorkingDirectoryOf(proc));
    }

    /// <summary>Whether the process still runs (a zombie, exited but not yet reaped by its parent, does not).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // The pid the kernel recorded when the server called listen(2) on the socket: connecting is enough to read it.
    private static int ListenerPid(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            throw new IOException($"no MemSvc listens on {socketPath}: {e.Message}", e);
        }

        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } at SOL_SOCKET (1), SO_PEERCRED (17).
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(1, 17, ucred);
        return length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(ucred) : throw new IOException($"SO_PEERCRED on {socketPath} gave {length} bytes");
    }

    // The published server is its own program; a framework-dependent one runs as `dotnet [host options] MemSvc.Server.dll`.
    private static int ProgramLength(string[] argv)
    {
        if (Path.GetFileName(argv[0]) != "dotnet")
        {
            return 1;
        }

        var dll = Array.FindIndex(argv, 1, a => a.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
        return dll > 0 ? dll + 1 : 1;
    }

    // A daemon that came from an upgrade was started with TakeOver itself; the next one gets its own, once.
    private static string[] WithoutTakeOver(string[] arguments)
    {
        var kept = new List<string>();
        for (var i = 0; i < arguments.Length; i++)
        {
            var key = arguments[i].TrimStart('-', '/');
            if (key.StartsWith(TakeOverKey + "=", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (key.Equals(TakeOverKey, StringComparison.OrdinalIgnoreCase))
            {
                // The value is the next argument.
                i++;
                continue;
            }

            kept.Add(arguments[i]);
        }

        return [.. kept];
    }

    private static string WorkingDirectoryOf(string proc)
    {
        try
        {
            var target = Directory.ResolveLinkTarget(proc + "/cwd", returnFinalTarget: false)?.FullName;
            return target is not null && Directory.Exists(target) ? target : "/";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "/";
        }
    }

    private static string[] Split(byte[] nulSeparated) =>
        Encoding.UTF8.GetString(nulSeparated).Split('\0', StringSplitOptions.RemoveEmptyEntries);
}
