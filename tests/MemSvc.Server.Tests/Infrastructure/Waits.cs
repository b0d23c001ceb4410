using MemSvc.Contracts.V1;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>Waiting for a state the server reaches on its own, by asking until it is there (never timing it).</summary>
public static class Waits
{
    /// <summary>Asks until <paramref name="vcpu"/> is in <paramref name="state"/>; fails at once if it ends in another.</summary>
    public static async Task<Vcpu> VcpuStateAsync(Clients clients, string vcpu, VcpuState state)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(Watcher.Patience);
        while (true)
        {
            var current = (await clients.Vcpus.GetVcpuAsync(new GetVcpuRequest { Name = vcpu }, cancellationToken: patience.Token)).Vcpu;
            if (current.State == state)
            {
                return current;
            }

            // A vCPU that shut down, failed or halted stays so: waiting longer for another state only hides why.
            if (current.State is VcpuState.Shutdown or VcpuState.Failed or VcpuState.Halted)
            {
                Assert.Fail($"{vcpu} is {current.State} ({current.StateReason}), not {state}");
            }

            await Task.Delay(2, patience.Token);
        }
    }

    /// <summary>Loads <paramref name="program"/> on vCPU 0 of <paramref name="vm"/>, runs it and waits until it halts.</summary>
    public static async Task RunToHaltAsync(Clients clients, string vm, GuestProgram program)
    {
        var ct = TestContext.Current.CancellationToken;
        var vcpu = vm + "/vcpus/0";
        await clients.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = vcpu, Program = program }, cancellationToken: ct);
        await clients.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = vcpu }, cancellationToken: ct);
        await VcpuStateAsync(clients, vcpu, VcpuState.Halted);
    }

    /// <summary>A program of 255 reports and a halt: 258 events per run (READY, RUNNING, reports, HALTED).</summary>
    public static GuestProgram Chatty(uint round) =>
        Steps.Program([.. Enumerable.Range(0, 255).Select(i => Steps.Report((round * 1000) + (uint)i)), Steps.Halt()]);
}
