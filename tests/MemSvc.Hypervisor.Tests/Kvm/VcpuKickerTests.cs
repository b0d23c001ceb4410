using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Tests.Kvm;

/// <summary>The kick signal is handled (and its deadly default action cancelled) even with no vCPU around.</summary>
public class VcpuKickerTests
{
    [Fact]
    public void Kicking_a_thread_of_this_process_leaves_it_running()
    {
        Assert.True(VcpuKicker.IsAvailable);
        var threadId = VcpuKicker.CurrentThreadId;
        Assert.True(threadId > 0);
        for (var i = 0; i < 10; i++)
        {
            VcpuKicker.Kick(threadId);
            Thread.Sleep(1);
        }

        // The kicks are handled on the runtime's signal thread; this thread is still here to say so.
        Assert.Equal(threadId, VcpuKicker.CurrentThreadId);
    }
}
