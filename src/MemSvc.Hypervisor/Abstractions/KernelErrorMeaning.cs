namespace MemSvc.Hypervisor;

/// <summary>
/// A kernel refusal as callers see it: its <paramref name="Kind"/>, a <paramref name="Reason"/> they can branch on
/// (an UPPER_SNAKE name of the contract's memsvc.v1.ErrorReason), and, when the refusal says the host lacks a
/// feature, the <paramref name="MissingCapability"/> (a KVM_CAP_* name).
/// </summary>
public readonly record struct KernelErrorMeaning(HypervisorErrorKind Kind, string Reason, string? MissingCapability);
