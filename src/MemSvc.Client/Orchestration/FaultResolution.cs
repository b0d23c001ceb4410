using Grpc.Core;
using MemSvc.Client.Errors;
using MemSvc.Contracts.V1;

namespace MemSvc.Client.Orchestration;

/// <summary>ResolveFault for the orchestrator, and what each answer means for the fault: every answer is an end.</summary>
internal static class FaultResolution
{
    /// <summary>
    /// Resolves <paramref name="fault"/> of its VM incarnation with <paramref name="action"/>, retried here on
    /// UNAVAILABLE only (the SDK never retries ResolveFault itself). A fault that is no longer pending is over, not
    /// an error: resolved elsewhere, timed out, or its VM gone. Null when the run was cancelled.
    /// </summary>
    public static async Task<FaultOutcome?> ResolveAsync(MemSvcClient client, FaultContext fault, FaultAction action, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await client.Events.ResolveFaultAsync(fault.Vm, fault.VmUid, fault.FaultId, action, cancellationToken).ConfigureAwait(false);
                return new FaultOutcome(fault, FaultOutcomeKind.Resolved, action, response);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (MemSvcException e) when (cancellationToken.IsCancellationRequested && e.StatusCode == StatusCode.Cancelled)
            {
                return null;
            }
            catch (MemSvcException e) when (e.Reason == FaultErrors.AlreadyResolved)
            {
                // After an attempt whose answer was lost, that attempt is the likeliest one to have resolved it.
                return new FaultOutcome(fault, attempt > 0 ? FaultOutcomeKind.Resolved : FaultOutcomeKind.ResolvedElsewhere, action, null);
            }
            catch (MemSvcException e) when (e.Reason == FaultErrors.TimedOut)
            {
                return new FaultOutcome(fault, FaultOutcomeKind.TimedOut, action, null);
            }
            catch (MemSvcException e) when (FaultErrors.IsFaultOver(e))
            {
                return new FaultOutcome(fault, FaultOutcomeKind.VmGone, action, null);
            }
            catch (MemSvcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < client.Options.MaxRetryAttempts)
            {
                await Task.Delay(client.Options.RetryBaseDelay * (1 << attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (MemSvcException e)
            {
                return new FaultOutcome(fault, FaultOutcomeKind.ResolveFailed, action, null, e);
            }
        }
    }
}
