using System.Text.Json;
using MemSvc.Cli.Tests.Infrastructure;
using MemSvc.Testing;

namespace MemSvc.Cli.Tests.Commands;

/// <summary>Every command, run in-process against the real server, in the order an operator would use them.</summary>
public sealed class CommandFlowTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private Task<CliResult> Ok(params string[] args) => Ctl.OkAsync(_server, args);

    [Fact]
    public async Task Memory_commands_build_a_vm_whose_map_shows_exactly_what_was_made_private()
    {
        var created = await Ok("vm", "create", "--id", "ops", "--backend", "simulated", "--type", "sw-protected", "--vcpus", "2", "--policy", "auto");
        Assert.Contains("name                vms/ops", created.Out, StringComparison.Ordinal);
        Assert.Contains("type                sw-protected", created.Out, StringComparison.Ordinal);

        var gmem = await Ok("gmem", "create", "ops", "--size", "64M");
        Assert.Contains("vms/ops/guestMemfds/1  64 MiB  -", gmem.Out, StringComparison.Ordinal);
        await Ok("gmem", "allocate", "ops", "1", "--size", "4M");
        Assert.Equal("discarded vms/ops/guestMemfds/1 [0x1000, 0x3000) 8 KiB\n", (await Ok("gmem", "discard", "ops", "1", "--offset", "0x1000", "--size", "8K")).Out);
        Assert.Contains("vms/ops/guestMemfds/1", (await Ok("gmem", "get", "ops", "1")).Out, StringComparison.Ordinal);
        Assert.Contains("vms/ops/guestMemfds/1", (await Ok("gmem", "list", "ops")).Out, StringComparison.Ordinal);

        await Ok("region", "set", "ops", "--slot", "0", "--gpa", "0", "--size", "32M", "--gmem", "1");
        await Ok("region", "set", "ops", "--slot", "1", "--gpa", "32M", "--size", "32M", "--gmem", "1", "--gmem-offset", "32M");
        var regions = await Ok("region", "list", "ops");
        Assert.Equal(
            """
            SLOT  GPA             END             SIZE    FLAGS        GUEST_MEMFD            OFFSET     SHARED     REVOKED
            0     0x000000000000  0x000002000000  32 MiB  guest-memfd  vms/ops/guestMemfds/1  0x0        anonymous  no
            1     0x000002000000  0x000004000000  32 MiB  guest-memfd  vms/ops/guestMemfds/1  0x2000000  anonymous  no

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            regions.Out);
        Assert.Contains("0x000002000000", (await Ok("region", "get", "ops", "1")).Out, StringComparison.Ordinal);

        Assert.Equal(
            "set 0x000000000000-0x000001000000 (16 MiB) private\n",
            (await Ok("attr", "set", "ops", "--gpa", "0", "--size", "16M", "--private")).Out);
        Assert.Equal(
            "converted 0x000002000000-0x000002001000 (4 KiB) to private (event #1)\n",
            (await Ok("convert", "ops", "--gpa", "32M", "--size", "4K", "--to", "private")).Out);

        var map = await Ok("attr", "get", "ops", "--width", "32");
        Assert.Equal(
            """
            memory map of vms/ops: 2 memslots, 64 MiB  (# private  . shared  + mixed  ' ' unbacked)
            slot 0  0x000000000000-0x000002000000  32 MiB  |################................|
            slot 1  0x000002000000-0x000004000000  32 MiB  |+...............................|
            ranges:
              0x000000000000-0x000001000000      16 MiB  private  slot 0
              0x000001000000-0x000002000000      16 MiB  shared   slot 0
              0x000002000000-0x000002001000       4 KiB  private  slot 1
              0x000002001000-0x000004000000   32764 KiB  shared   slot 1

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            map.Out);

        var runs = await Ok("attr", "get", "ops", "--gpa", "0xfff000", "--size", "8K");
        Assert.Equal(
            """
            GPA             END             SIZE   ATTRIBUTES
            0x000000fff000  0x000001000000  4 KiB  private
            0x000001000000  0x000001001000  4 KiB  shared

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            runs.Out);

        var vm = await Ok("vm", "get", "ops", "--width", "32");
        Assert.Contains("slot 1  0x000002000000-0x000004000000  32 MiB  |+...............................|", vm.Out, StringComparison.Ordinal);
        Assert.Contains("VCPU  STATE", vm.Out, StringComparison.Ordinal);

        Assert.Equal("wrote 16 bytes at 0x000001000000\n", (await Ok("mem", "write", "ops", "--gpa", "16M", "--pattern", "0x5a", "--size", "16")).Out);
        await Ok("mem", "write", "ops", "--gpa", "0x1000010", "--hex", "4d656d537663");
        Assert.Equal(
            """
            0x000001000000  5a 5a 5a 5a 5a 5a 5a 5a  5a 5a 5a 5a 5a 5a 5a 5a  |ZZZZZZZZZZZZZZZZ|
            0x000001000010  4d 65 6d 53 76 63 00 00                           |MemSvc..|

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            (await Ok("mem", "read", "ops", "--gpa", "16M", "--size", "24")).Out);

        Assert.Contains("\"vms/ops\"", (await Ok("vm", "list", "-o", "json")).Out, StringComparison.Ordinal);
        await Ok("region", "delete", "ops", "1");
        Assert.DoesNotContain("0x000002000000  0x000004000000", (await Ok("region", "list", "ops")).Out, StringComparison.Ordinal);
        await Ok("gmem", "delete", "ops", "1");
        Assert.Equal("deleted vms/ops\n", (await Ok("vm", "delete", "ops")).Out);
    }

    [Fact]
    public async Task Vcpu_events_and_fault_commands_run_a_guest_and_resolve_its_fault()
    {
        await Ok("vm", "create", "--id", "guest", "--backend", "simulated", "--type", "sw-protected", "--policy", "orchestrator");
        await Ok("gmem", "create", "guest", "--size", "4M");
        await Ok("region", "set", "guest", "--slot", "0", "--gpa", "0", "--size", "4M", "--gmem", "1");
        var program = Path.Combine(Path.GetTempPath(), $"memsvcctl-{Guid.NewGuid():N}.guest");
        await File.WriteAllTextAsync(program, "# a private write to shared memory faults\nwrite 0x1000 4096 0xaa private\ncheck 0x1000 4096 0xaa private\nreport 7\nhalt\n", TestContext.Current.CancellationToken);
        try
        {
            var loaded = await Ok("vcpu", "load", "guest", "0", "--program", program);
            Assert.Contains("0     ready  loaded", loaded.Out, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(program);
        }

        await Ok("vcpu", "start", "guest", "0");

        // The first event of the journal is the load; the fault comes after the start.
        var watched = await Ok("events", "watch", "--vm", "guest", "--from", "1", "--kinds", "memory-fault", "--count", "1");
        Assert.Matches(@"^#\d+ vms/guest \S+ memory-fault vcpu=0 gpa=0x1000 size=4096 access=private flags=0x8 fault=1\n$", watched.Out);
        Assert.Contains("watching vms/guest from #1", watched.Error, StringComparison.Ordinal);

        var waiting = await Ok("vcpu", "get", "guest", "0");
        Assert.Contains("fault 1", waiting.Out, StringComparison.Ordinal);
        Assert.Matches(@"resolved fault 1: convert after \S+\n", (await Ok("fault", "resolve", "guest", "1", "--action", "convert")).Out);

        var all = await Ok("events", "watch", "--vm", "guest", "--from", "1", "--count", "9", "-o", "json");
        var lines = all.Out.TrimEnd('\n').Split('\n');
        var sequences = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("sequence").GetString()).ToList();
        Assert.Equal(Enumerable.Range(1, 9).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), sequences);
        Assert.Contains(lines, l => l.Contains("\"guestReport\"", StringComparison.Ordinal) && l.Contains("\"value\": 7", StringComparison.Ordinal));

        var vcpus = await Ok("vcpu", "list", "guest");
        Assert.Contains("0     halted", vcpus.Out, StringComparison.Ordinal);
        await Ok("vcpu", "load", "guest", "0", "--steps", "report 1; halt");
        await Ok("vm", "delete", "guest");
    }

    [Fact]
    public async Task Fault_serve_without_a_VM_serves_every_VM_including_ones_made_after_it_started()
    {
        using var interrupt = new CancellationTokenSource();
        var serving = Ctl.RunAsync(_server, interrupt.Token, "fault", "serve");
        foreach (var vm in new[] { "every-a", "every-b" })
        {
            await Ok("vm", "create", "--id", vm, "--backend", "simulated", "--type", "sw-protected", "--policy", "orchestrator");
            await Ok("gmem", "create", vm, "--size", "4M");
            await Ok("region", "set", vm, "--slot", "0", "--gpa", "0", "--size", "4M", "--gmem", "1");
            await Ok("vcpu", "load", vm, "0", "--steps", "write 0x3000 4096 0xcc private; halt");
            await Ok("vcpu", "start", vm, "0");
        }

        foreach (var vm in new[] { "every-a", "every-b" })
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!(await Ok("vcpu", "get", vm, "0")).Out.Contains("halted", StringComparison.Ordinal))
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"fault serve did not let {vm}'s vCPU halt");
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
        }

        await interrupt.CancelAsync();
        var serve = await serving;
        Assert.Equal(130, serve.ExitCode);
        Assert.StartsWith("resolving faults of every VM with convert", serve.Error, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^vms/every-a fault 1 vcpu=0 gpa=0x3000 size=4096: convert after \S+$", serve.Out);
        Assert.Matches(@"(?m)^vms/every-b fault 1 vcpu=0 gpa=0x3000 size=4096: convert after \S+$", serve.Out);
        await Ok("vm", "delete", "every-a");
        await Ok("vm", "delete", "every-b");
    }

    [Fact]
    public async Task Pause_serve_and_revoke_complete_the_set()
    {
        await Ok("vm", "create", "--id", "more", "--backend", "simulated", "--type", "sw-protected", "--policy", "orchestrator");
        await Ok("gmem", "create", "more", "--size", "4M");
        await Ok("region", "set", "more", "--slot", "0", "--gpa", "0", "--size", "4M", "--gmem", "1");
        await Ok("vcpu", "load", "more", "0", "--steps", "write 0x1000 4096 0xaa private; write 0x2000 4096 0xbb private; halt");
        await Ok("vcpu", "start", "more", "0");
        Assert.Contains("access=private", (await Ok("events", "watch", "--vm", "more", "--from", "1", "--kinds", "memory-fault", "-n", "1")).Out, StringComparison.Ordinal);

        // fault serve resolves both faults, then runs until interrupted.
        using var interrupt = new CancellationTokenSource();
        var serving = Ctl.RunAsync(_server, interrupt.Token, "fault", "serve", "more", "--max-in-flight", "1");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(await Ok("vcpu", "get", "more", "0")).Out.Contains("halted", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "fault serve did not let the vCPU halt");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        await interrupt.CancelAsync();
        var serve = await serving;
        Assert.Equal(130, serve.ExitCode);
        Assert.Matches(@"(?m)^vms/more fault 1 vcpu=0 gpa=0x1000 size=4096: convert after \S+\n", serve.Out);
        Assert.Matches(@"(?m)^vms/more fault 2 vcpu=0 gpa=0x2000 size=4096: convert after \S+\n", serve.Out);
        Assert.Contains("0     halted", (await Ok("vcpu", "list", "more")).Out, StringComparison.Ordinal);

        var pause = await Ctl.RunAsync(_server, "vcpu", "pause", "more", "0");
        Assert.Equal(6, pause.ExitCode);
        Assert.StartsWith("error: FAILED_PRECONDITION (", pause.Error, StringComparison.Ordinal);

        await Ok("vm", "create", "--id", "plain", "--vcpus", "1");
        await Ok("gmem", "create", "plain", "--size", "4M", "--flags", "mmap,init-shared");
        await Ok("region", "set", "plain", "--slot", "3", "--gpa", "1M", "--size", "4M", "--gmem", "1", "--shared-backing", "guest-memfd");
        await Ok("gmem", "delete", "plain", "1");
        var revoked = await Ok("region", "revoke", "plain", "3");
        Assert.Contains("guest-memfd  yes", revoked.Out, StringComparison.Ordinal);
        Assert.Contains("|                                                                |", (await Ok("attr", "get", "plain")).Out, StringComparison.Ordinal);

        var host = await Ok("host", "info");
        Assert.Contains("backend simulated", host.Out, StringComparison.Ordinal);
        Assert.Contains("KVM_CAP_", host.Out, StringComparison.Ordinal);
        using var json = JsonDocument.Parse((await Ok("host", "info", "--output", "json")).Out);
        Assert.Equal("BACKEND_SIMULATED", json.RootElement.GetProperty("defaultBackend").GetString());
    }
}
