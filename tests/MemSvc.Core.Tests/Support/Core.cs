using MemSvc.Core.Backends;
using MemSvc.Core.Events;
using MemSvc.Core.Identity;
using MemSvc.Core.Options;
using MemSvc.Core.Vms;
using MemSvc.Hypervisor;
using MemSvc.Hypervisor.Simulated;
using Microsoft.Extensions.Logging;

namespace MemSvc.Core.Tests.Support;

/// <summary>Shorthands: a manager over the simulated backend, callers, sizes, programs.</summary>
internal static class Core
{
    public const ulong K4 = 4096;
    public const ulong M = 1UL << 20;

    public static readonly CallerIdentity Alice = new("alice");
    public static readonly CallerIdentity Bob = new("bob");
    public static readonly CallerIdentity Admin = new("root", IsAdmin: true);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static VmManager Manager(CoreOptions? options = null, IHypervisor? hypervisor = null, ILoggerFactory? loggerFactory = null) =>
        new(new BackendCatalog(new Dictionary<string, IHypervisor> { ["simulated"] = hypervisor ?? new SimulatedHypervisor() }, "simulated"), options, loggerFactory);

    public static GuestProgram Program(params GuestStep[] steps) => new(steps);

    public static GuestStep.WritePattern Write(ulong gpa, ulong length, byte pattern, AccessIntent intent) => new(gpa, length, pattern, intent);

    public static GuestStep.CheckPattern Check(ulong gpa, ulong length, byte pattern, AccessIntent intent) => new(gpa, length, pattern, intent);

    /// <summary>Events of <paramref name="events"/> until <paramref name="stop"/> says the last one was enough.</summary>
    public static async Task<List<VmEvent>> Until(IAsyncEnumerable<VmEvent> events, Func<List<VmEvent>, bool> stop)
    {
        var list = new List<VmEvent>();
        await foreach (var evt in events)
        {
            list.Add(evt);
            if (stop(list))
            {
                break;
            }
        }

        return list;
    }

    public static async Task<List<VmEvent>> All(IAsyncEnumerable<VmEvent> events)
    {
        var list = new List<VmEvent>();
        await foreach (var evt in events)
        {
            list.Add(evt);
        }

        return list;
    }

    /// <summary>True once every one of <paramref name="vcpus"/> vCPUs reached a final state (halted, shutdown, failed).</summary>
    public static bool AllFinished(List<VmEvent> events, int vcpus) =>
        events.Select(e => e.Payload).OfType<EventPayload.VcpuStateChanged>()
            .Where(s => s.State is MemSvc.Core.Vcpus.VcpuState.Halted or MemSvc.Core.Vcpus.VcpuState.Shutdown or MemSvc.Core.Vcpus.VcpuState.Failed)
            .Select(s => s.Vcpu).Distinct().Count() == vcpus;
}
