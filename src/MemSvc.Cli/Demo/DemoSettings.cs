using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Demo;

/// <summary>The demo's options.</summary>
/// <param name="VmId">The demo VM's id; null: the server picks one.</param>
/// <param name="Backend">The demo VM's backend (simulated: a default-type kvm VM has no private memory).</param>
/// <param name="Keep">Leave the VM for inspection instead of deleting it.</param>
/// <param name="Timeout">How long the vCPUs, and the replay, may take.</param>
internal sealed record DemoSettings(string? VmId, Backend Backend, bool Keep, TimeSpan Timeout);
