using System.Diagnostics;

namespace MemSvc.Testcontainers;

/// <summary>The host's /dev/kvm, as a container needs it.</summary>
internal static class KvmDevice
{
    /// <summary>The group that owns /dev/kvm (its number differs between hosts), by asking stat(1).</summary>
    public static string GroupId()
    {
        if (!File.Exists("/dev/kvm"))
        {
            throw new InvalidOperationException("MemSvcBackend.Kvm needs /dev/kvm on the Docker host, and this host has none.");
        }

        var start = new ProcessStartInfo("stat", ["-c", "%g", "/dev/kvm"]) { RedirectStandardOutput = true };
        using var stat = Process.Start(start) ?? throw new InvalidOperationException("could not run stat");
        var gid = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return stat.ExitCode == 0 ? gid : throw new InvalidOperationException("stat -c %g /dev/kvm failed");
    }
}
