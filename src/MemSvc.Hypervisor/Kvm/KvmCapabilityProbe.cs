using System.Text;

namespace MemSvc.Hypervisor.Kvm;

/// <summary>Asks /dev/kvm (and a throw-away default VM) what it supports: nothing is assumed.</summary>
internal static class KvmCapabilityProbe
{
    /// <summary>Prefix of the Raw keys that hold a default VM's answer rather than /dev/kvm's.</summary>
    public const string VmKeyPrefix = "vm.";

    // Capabilities whose answer depends on the VM type, so a default VM is asked too.
    private static readonly (string Name, int Number)[] VmLevel =
    [
        ("KVM_CAP_GUEST_MEMFD_FLAGS", KvmCaps.GuestMemfdFlags),
        ("KVM_CAP_MEMORY_ATTRIBUTES", KvmCaps.MemoryAttributes),
        ("KVM_CAP_EXIT_HYPERCALL", KvmCaps.ExitHypercall),
    ];

    public static HypervisorCapabilities Probe(KvmSystem system, ReadOnlySpan<KvmCpuidEntry2> supportedCpuid)
    {
        var raw = new Dictionary<string, long>();
        foreach (var (name, number) in KvmCaps.Probed)
        {
            raw[name] = system.CheckExtension(number);
        }

        using (var vm = system.CreateVm((ulong)VmType.Default))
        {
            foreach (var (name, number) in VmLevel)
            {
                raw[VmKeyPrefix + name] = vm.CheckExtension(number);
            }
        }

        return new HypervisorCapabilities
        {
            Backend = "kvm",
            KernelVersion = KernelRelease(),
            ApiVersion = system.GetApiVersion(),
            VmTypes = VmTypesFromMask(raw["KVM_CAP_VM_TYPES"]),
            UserMemory2 = raw["KVM_CAP_USER_MEMORY2"] != 0,
            GuestMemfd = raw["KVM_CAP_GUEST_MEMFD"] != 0,
            GuestMemfdFlags = (GuestMemfdFlags)(ulong)raw[VmKeyPrefix + "KVM_CAP_GUEST_MEMFD_FLAGS"],
            MemoryAttributes = (MemoryAttributes)(ulong)raw["KVM_CAP_MEMORY_ATTRIBUTES"],
            MemoryFaultInfo = raw["KVM_CAP_MEMORY_FAULT_INFO"] != 0,
            ExitHypercallMask = (ulong)raw["KVM_CAP_EXIT_HYPERCALL"],
            MaxMemslots = (int)raw["KVM_CAP_NR_MEMSLOTS"],
            MaxVcpus = (int)raw["KVM_CAP_MAX_VCPUS"],
            MaxGpaBits = GpaLimit.MaxGpaBits(supportedCpuid),
            Raw = raw,
        };
    }

    /// <summary>The VM types whose bit KVM_CAP_VM_TYPES sets; kernels without the capability only know the default type.</summary>
    public static IReadOnlyList<VmType> VmTypesFromMask(long mask)
    {
        if (mask == 0)
        {
            return [VmType.Default];
        }

        var types = new List<VmType>();
        for (var bit = 0; bit < 63; bit++)
        {
            if ((mask & (1L << bit)) != 0)
            {
                types.Add((VmType)bit);
            }
        }

        return types;
    }

    /// <summary>uname(2)'s release field, as `uname -r` prints it.</summary>
    public static unsafe string KernelRelease()
    {
        var buffer = stackalloc byte[LibC.UtsnameSize];

        // Sound: the buffer is sizeof(struct utsname) and lives on this frame for the whole call.
        if (LibC.Uname(buffer) != 0)
        {
            throw KvmErrors.LastError("uname", "uname failed");
        }

        var release = new ReadOnlySpan<byte>(buffer + LibC.UtsnameReleaseOffset, LibC.UtsnameSize - LibC.UtsnameReleaseOffset);
        var end = release.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? release : release[..end]);
    }
}
