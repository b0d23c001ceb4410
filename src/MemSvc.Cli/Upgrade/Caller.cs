using System.Globalization;

namespace MemSvc.Cli.Upgrade;

/// <summary>
/// Who memsvcctl runs as. The VMs an upgrade counts before and after are those this uid may see (its own, or every
/// owner's when it is one of the server's admins): under systemd, ExecReload= runs as the service's user, which
/// owns none, and the new server's "Took over" line in the journal counts every owner's.
/// </summary>
internal static class Caller
{
    /// <summary>The effective uid, from /proc/self/status (its Uid: line is real, effective, saved, filesystem).</summary>
    public static uint EffectiveUid { get; } = Read();

    private static uint Read()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return uint.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
            }
        }

        throw new IOException("/proc/self/status has no Uid: line");
    }
}
