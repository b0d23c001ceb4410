using MemSvc.Client.Orchestration;
using MemSvc.Contracts.V1;
using Microsoft.Extensions.Options;

namespace Orchestrator;

/// <summary>What to do with a fault: the decision an orchestrator exists for.</summary>
public sealed class PlacementPolicy(IOptions<PlacementOptions> options)
{
    /// <summary>Shared accesses are converted; private ones only below <see cref="PlacementOptions.PrivateMemoryLimit"/>.</summary>
    public FaultAction Decide(FaultContext fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        return fault.WantsPrivate && fault.Gpa + fault.Size > options.Value.PrivateMemoryLimit ? FaultAction.Fail : FaultAction.Convert;
    }
}
