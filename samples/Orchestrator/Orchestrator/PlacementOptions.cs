namespace Orchestrator;

/// <summary>The orchestrator's policy settings (section "Placement").</summary>
public sealed class PlacementOptions
{
    /// <summary>
    /// Guest-physical addresses below this may become private (encrypted) memory; a private access or conversion
    /// request reaching past it is refused, and its vCPU fails.
    /// </summary>
    public ulong PrivateMemoryLimit { get; set; } = 1UL << 30;
}
