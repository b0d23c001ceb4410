namespace MemSvc.Hypervisor.Kvm;

/// <summary>
/// Why /dev/kvm did not open, said so that an operator can fix it: open(2)'s errno decides which fix applies,
/// here beside the ioctls, so that no layer above has to read an errno.
/// </summary>
internal static class KvmOpenFailure
{
    public static string Describe(HypervisorException e) =>
        $"{KvmSystem.DevicePath} is not usable: {e.Message}{Fix(e.Errno)}";

    private static string Fix(Errno errno) => errno switch
    {
        Errno.ENOENT or Errno.ENODEV or Errno.ENXIO =>
            $". Fix: load kvm_intel or kvm_amd on the host; in a container, map the device (docker run --device {KvmSystem.DevicePath}, or a Kubernetes hostPath/device plugin)",
        Errno.EACCES or Errno.EPERM =>
            $". Fix: give the server's user the group that owns {KvmSystem.DevicePath}{OwnerGroup()} (docker run --group-add <gid>; Kubernetes securityContext.supplementalGroups; systemd SupplementalGroups=kvm)",
        _ => string.Empty,
    };

    // /dev/kvm is usually root:kvm 0660; the gid differs between distributions, so it is read, not assumed.
    private static string OwnerGroup() =>
        LibC.StatGroupId(KvmSystem.DevicePath) is { } gid ? $" (gid {gid})" : string.Empty;
}
