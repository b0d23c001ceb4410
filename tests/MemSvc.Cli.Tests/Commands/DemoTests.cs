using MemSvc.Cli.Tests.Infrastructure;
using MemSvc.Testing;

namespace MemSvc.Cli.Tests.Commands;

/// <summary><c>memsvcctl demo</c> end to end against the in-process server.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_narrates_faults_conversions_halts_and_the_replay_and_cleans_up()
    {
        await using var server = await TestServer.StartAsync();

        var result = await Ctl.OkAsync(server, "demo", "--vm-id", "demo");

        var text = result.Out;
        for (var step = 1; step <= 11; step++)
        {
            Assert.Contains($"[{step}/11] ", text, StringComparison.Ordinal);
        }

        Assert.Contains("Creating an sw-protected VM on the simulated backend with 2 vCPUs and the orchestrator fault policy", text, StringComparison.Ordinal);
        Assert.Contains("memory-fault vcpu=0 gpa=0x1000000 size=4096 access=private flags=0x8", text, StringComparison.Ordinal);
        Assert.Contains("memory-fault vcpu=1 gpa=0x110000 size=4096 access=shared flags=0x0", text, StringComparison.Ordinal);
        Assert.Contains("conversion-requested vcpu=0 gpa=0x200000 size=4096 to=shared", text, StringComparison.Ordinal);
        Assert.Equal(6, text.Split("-> resolved fault ").Length - 1);
        Assert.Contains("vcpu 0: halted, data checks passed, reported 0x600d0", text, StringComparison.Ordinal);
        Assert.Contains("vcpu 1: halted, data checks passed, reported 0x600d1", text, StringComparison.Ordinal);
        Assert.Contains("0x000000100000  b0 b0 b0 b0", text, StringComparison.Ordinal);
        Assert.Contains("refused to the host: MEMORY_IS_PRIVATE", text, StringComparison.Ordinal);
        Assert.Contains("slot 0  0x000000000000-0x000002000000  32 MiB  |##+#+###########################+...............................|", text, StringComparison.Ordinal);
        Assert.Matches(@"identical: sequences #1 to #\d+, same payloads", text);
        Assert.EndsWith("demo finished: every fault was resolved by conversion and every vCPU's data checks passed\n", text, StringComparison.Ordinal);

        Assert.Equal(4, (await Ctl.RunAsync(server, "vm", "get", "demo")).ExitCode);
    }

    [Fact]
    public async Task With_keep_the_vm_stays_for_inspection()
    {
        await using var server = await TestServer.StartAsync();

        await Ctl.OkAsync(server, "demo", "--vm-id", "kept", "--keep");

        var vm = await Ctl.OkAsync(server, "vm", "get", "kept");
        Assert.Contains("0     halted", vm.Out, StringComparison.Ordinal);
        Assert.Contains("1     halted", vm.Out, StringComparison.Ordinal);
    }
}
