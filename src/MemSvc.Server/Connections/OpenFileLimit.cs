using System.Globalization;

namespace MemSvc.Server.Connections;

/// <summary>
/// The process's RLIMIT_NOFILE soft limit, read from /proc/self/limits (no P/Invoke needed). Read after the runtime
/// started, so it is already the raised value: .NET lifts the soft limit to the hard one at start.
/// </summary>
internal static class OpenFileLimit
{
    /// <summary>What an unlimited or unreadable limit counts as: large enough that the 4096 cap decides.</summary>
    public const long Unknown = 1L << 20;

    public static long Current()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                // "Max open files            1024                 1024                 files     "
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : Unknown;
                }
            }
        }
        catch (IOException)
        {
        }

        return Unknown;
    }
}
