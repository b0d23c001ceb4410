using System.Runtime.InteropServices;

namespace MemSvc.Server.Handoff;

/// <summary>
/// How the old process ends once the new one has adopted its VMs: _exit(2), at once. A graceful stop would end every
/// VM (vCPUs stopped, journals completed, watches told their VM ended), which is false now that the VMs live on in the
/// new process; _exit runs none of it, and the kernel closes every socket, so clients see their connection drop
/// (UNAVAILABLE) and reconnect to the new process, and watches resume at their positions there.
/// </summary>
internal static partial class ImmediateExit
{
    public static void Now(int status) => NativeExit(status);

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void NativeExit(int status);
}
