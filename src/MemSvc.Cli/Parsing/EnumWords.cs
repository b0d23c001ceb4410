using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Parsing;

/// <summary>The words the command line uses for the contract's enums, both ways (kebab-case, no prefix).</summary>
internal static class EnumWords
{
    public static readonly IReadOnlyDictionary<string, Backend> Backends = new Dictionary<string, Backend>
    {
        ["kvm"] = Backend.Kvm,
        ["simulated"] = Backend.Simulated,
    };

    public static readonly IReadOnlyDictionary<string, VmType> VmTypes = new Dictionary<string, VmType>
    {
        ["default"] = VmType.Default,
        ["sw-protected"] = VmType.SwProtected,
        ["sev"] = VmType.Sev,
        ["sev-es"] = VmType.SevEs,
        ["snp"] = VmType.Snp,
        ["tdx"] = VmType.Tdx,
    };

    public static readonly IReadOnlyDictionary<string, FaultPolicy> Policies = new Dictionary<string, FaultPolicy>
    {
        ["auto"] = FaultPolicy.Auto,
        ["orchestrator"] = FaultPolicy.Orchestrator,
    };

    public static readonly IReadOnlyDictionary<string, FaultAction> Actions = new Dictionary<string, FaultAction>
    {
        ["convert"] = FaultAction.Convert,
        ["retry"] = FaultAction.Retry,
        ["fail"] = FaultAction.Fail,
    };

    public static readonly IReadOnlyDictionary<string, GuestMemfdFlag> GuestMemfdFlags = new Dictionary<string, GuestMemfdFlag>
    {
        ["mmap"] = GuestMemfdFlag.Mmap,
        ["init-shared"] = GuestMemfdFlag.InitShared,
    };

    public static readonly IReadOnlyDictionary<string, MemoryRegionFlag> RegionFlags = new Dictionary<string, MemoryRegionFlag>
    {
        ["log-dirty-pages"] = MemoryRegionFlag.LogDirtyPages,
        ["readonly"] = MemoryRegionFlag.Readonly,
        ["guest-memfd"] = MemoryRegionFlag.GuestMemfd,
    };

    public static readonly IReadOnlyDictionary<string, SharedBacking> SharedBackings = new Dictionary<string, SharedBacking>
    {
        ["anonymous"] = SharedBacking.Anonymous,
        ["guest-memfd"] = SharedBacking.GuestMemfd,
    };

    public static readonly IReadOnlyDictionary<string, MemoryVisibility> Visibilities = new Dictionary<string, MemoryVisibility>
    {
        ["private"] = MemoryVisibility.Private,
        ["shared"] = MemoryVisibility.Shared,
    };

    public static readonly IReadOnlyDictionary<string, EventKind> EventKinds = new Dictionary<string, EventKind>
    {
        ["memory-fault"] = EventKind.MemoryFault,
        ["conversion-requested"] = EventKind.ConversionRequested,
        ["conversion-applied"] = EventKind.ConversionApplied,
        ["fault-resolved"] = EventKind.FaultResolved,
        ["vcpu-state"] = EventKind.VcpuStateChanged,
        ["guest-report"] = EventKind.GuestReport,
        ["vm-lost"] = EventKind.VmLost,
    };

    /// <summary>The word for an enum value: the key that maps to it, else the value's C# name in lower case.</summary>
    public static string Word<T>(IReadOnlyDictionary<string, T> words, T value)
        where T : struct, Enum =>
        words.FirstOrDefault(p => EqualityComparer<T>.Default.Equals(p.Value, value)).Key ?? value.ToString().ToLowerInvariant();

    /// <summary>A generated enum value in kebab-case: <c>VcpuState.Halted</c> is <c>halted</c>, <c>VmType.SwProtected</c> <c>sw-protected</c>.</summary>
    public static string Kebab<T>(T value)
        where T : struct, Enum
    {
        var name = value.ToString();
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }
}
