using MemSvc.Core.Identity;

namespace MemSvc.Server.Execution;

/// <summary>
/// Workers of their own for ResolveFault conversions too large for the calling thread, at the server's priority.
/// The bulk workers (<see cref="FairWorkers"/>) run at a low priority (nice 19) so that one owner's long conversions
/// leave the cores to everyone else's requests; a resolution must not inherit that, since a vCPU waits on it and
/// on a busy host any other process would come first. Same fairness rules: a queue per owner, served round robin,
/// one owner on all threads but one, one resolution per VM at a time. A resolution may run beside a bulk operation
/// on its VM; Core's VM lock orders them.
/// </summary>
internal sealed class ResolutionWorkers(int count) : IDisposable
{
    private readonly FairWorkers _workers = new(count, Math.Max(1, count - 1), nice: 0, name: "memsvc resolution worker");

    public int Count => _workers.Count;

    public Task<T> RunAsync<T>(CallerIdentity caller, string vmId, Func<T> work, CancellationToken cancellationToken) =>
        _workers.RunAsync(caller, vmId, work, cancellationToken);

    public void Dispose() => _workers.Dispose();
}
