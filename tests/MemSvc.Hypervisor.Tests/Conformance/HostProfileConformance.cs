using MemSvc.Hypervisor.Tests.Simulated;

namespace MemSvc.Hypervisor.Tests.Conformance;

// The conformance suites that run on real kernels (KvmErrnoTable, KvmLifecycle, KvmKernelQuirks) against each host
// profile of the simulated backend: the same rows, the same capability gates, the same host-derived answers. A
// profile that models a host must pass exactly what that host passes (the Simulated* classes cover the default
// profile).

/// <summary>kvm/probe/results.txt's host: kvm_pvm 6.18 with guest_memfd.</summary>
public class Pvm618ProfileErrnoTable : ErrnoTableConformance
{
    protected override bool RunsRowsUnsafeOnRealKvm => true;

    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-6.18-pvm");
}

/// <summary>The field report's host: kvm_pvm 6.18 without guest_memfd (every guest_memfd row skips, naming it).</summary>
public class Pvm618NoGmemProfileErrnoTable : ErrnoTableConformance
{
    protected override bool RunsRowsUnsafeOnRealKvm => true;

    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-6.18-pvm-no-gmem");
}

/// <summary>kvm/nested's kernel: Debian's 7.2 under NPT (attributes ioctl, SMM, MAXPHYADDR 48, EEXIST overlap).</summary>
public class Debian72ProfileErrnoTable : ErrnoTableConformance
{
    protected override bool RunsRowsUnsafeOnRealKvm => true;

    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-7.2-debian");
}

public class Pvm618ProfileLifecycle : LifecycleConformance
{
    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-6.18-pvm");
}

public class Pvm618NoGmemProfileLifecycle : LifecycleConformance
{
    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-6.18-pvm-no-gmem");
}

public class Debian72ProfileLifecycle : LifecycleConformance
{
    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-7.2-debian");
}

public class Pvm618ProfileKernelQuirks : KernelQuirkConformance
{
    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-6.18-pvm");
}

public class Pvm618NoGmemProfileKernelQuirks : KernelQuirkConformance
{
    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-6.18-pvm-no-gmem");
}

public class Debian72ProfileKernelQuirks : KernelQuirkConformance
{
    protected override IHypervisor CreateHypervisor() => Sim.NewHypervisor("kvm-7.2-debian");
}
