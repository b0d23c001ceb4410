using MemSvc.Client;
using MemSvc.Client.Orchestration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator;

/// <summary>
/// Resolves every fault of every VM this orchestrator's identity owns, by <see cref="PlacementPolicy"/>, until
/// the host stops: MemSvc.Client's FaultOrchestrator does the list-then-watch, reconnects and bookkeeping.
/// </summary>
public sealed class FaultResolver(MemSvcClient client, PlacementPolicy policy, ILogger<FaultResolver> logger) : BackgroundService
{
    private long _resolved;

    /// <summary>Faults this resolver answered itself.</summary>
    public long Resolved => Interlocked.Read(ref _resolved);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var orchestrator = new FaultOrchestrator(client)
        {
            OnResolved = outcome =>
            {
                if (outcome.Kind == FaultOutcomeKind.Resolved)
                {
                    Interlocked.Increment(ref _resolved);
                }

                logger.LogInformation("fault {FaultId} of {Vm}: {Outcome} ({Action})", outcome.Fault.FaultId, outcome.Fault.Vm, outcome.Kind, outcome.Action);
            },
        }
            .OnMemoryFault((fault, _) => ValueTask.FromResult(policy.Decide(fault)))
            .OnConversionRequest((fault, _) => ValueTask.FromResult(policy.Decide(fault)));
        return orchestrator.RunAsync(stoppingToken);
    }
}
