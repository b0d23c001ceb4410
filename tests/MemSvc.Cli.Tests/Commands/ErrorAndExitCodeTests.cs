using MemSvc.Cli.Output;
using MemSvc.Cli.Tests.Infrastructure;
using MemSvc.Testing;

namespace MemSvc.Cli.Tests.Commands;

/// <summary>Exit codes scripts branch on, and error messages that name the status, the reason and the field.</summary>
public sealed class ErrorAndExitCodeTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_missing_vm_exits_4_with_status_and_reason()
    {
        var result = await Ctl.RunAsync(_server, "vm", "get", "nowhere");

        Assert.Equal(4, result.ExitCode);
        Assert.StartsWith("error: NOT_FOUND (VM_NOT_FOUND): ", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task A_misaligned_address_exits_3_and_names_the_field()
    {
        await Ctl.OkAsync(_server, "vm", "create", "--id", "bad-args", "--type", "sw-protected", "--backend", "simulated");

        var result = await Ctl.RunAsync(_server, "attr", "set", "bad-args", "--gpa", "0x123", "--size", "4K", "--private");

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("error: INVALID_ARGUMENT (INVALID_ADDRESS): ", result.Error, StringComparison.Ordinal);
        Assert.Contains("\n  field gpa: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_vm_with_the_same_id_exits_5_and_a_vcpu_without_program_exits_6()
    {
        await Ctl.OkAsync(_server, "vm", "create", "--id", "twice");

        var conflict = await Ctl.RunAsync(_server, "vm", "create", "--id", "twice");
        var precondition = await Ctl.RunAsync(_server, "vcpu", "start", "twice", "0");

        Assert.Equal(5, conflict.ExitCode);
        Assert.Contains("ALREADY_EXISTS (VM_ALREADY_EXISTS)", conflict.Error, StringComparison.Ordinal);
        Assert.Equal(6, precondition.ExitCode);
        Assert.Contains("FAILED_PRECONDITION (NO_PROGRAM_LOADED)", precondition.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gmem", "create", "x", "--size", "12q")]
    [InlineData("vm", "create", "--type", "sev-snp")]
    [InlineData("convert", "x", "--gpa", "0", "--size", "4K")]
    [InlineData("vm", "frobnicate")]
    [InlineData("vcpu", "load", "x", "0", "--steps", "jump 0x1000")]
    [InlineData("attr", "set", "x", "--gpa", "0", "--size", "4K")]
    public async Task Bad_input_exits_2_before_any_call(params string[] args)
    {
        var result = await Ctl.RunAsync(_server, args);

        Assert.Equal(2, result.ExitCode);
        Assert.NotEmpty(result.Error);
    }

    [Fact]
    public async Task An_unreachable_server_exits_9_and_says_where_it_looked()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"memsvc-none-{Guid.NewGuid():N}.sock");
        var result = await Ctl.RunAsync(new Dictionary<string, string> { ["MEMSVC_SOCKET"] = socket }, "host", "info");

        Assert.Equal(9, result.ExitCode);
        Assert.Equal(
            $"error: no MemSvc server answered at unix:{socket} (MEMSVC_SOCKET): there is no socket file at that path\n{NoServerText.Hint}\n",
            result.Error);
    }

    [Fact]
    public async Task The_socket_option_and_variable_reach_the_server_over_its_unix_socket()
    {
        var byVariable = await Ctl.RunAsync(new Dictionary<string, string> { ["MEMSVC_SOCKET"] = _server.SocketPath }, "host", "info");
        var byOption = await Ctl.RunAsync(new Dictionary<string, string>(), "--socket", _server.SocketPath, "vm", "list");

        Assert.Equal(0, byVariable.ExitCode);
        Assert.Equal(0, byOption.ExitCode);
    }

    [Fact]
    public async Task The_address_option_reaches_the_server_over_loopback_and_a_bad_one_is_a_usage_error()
    {
        var ok = await Ctl.RunAsync(new Dictionary<string, string>(), "--address", _server.Loopback.ToString(), "host", "info");
        var bad = await Ctl.RunAsync(new Dictionary<string, string>(), "--address", "not a url", "host", "info");

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--address is not an absolute URL: not a url", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watching_from_a_compacted_sequence_exits_3_and_says_where_the_journal_starts()
    {
        await using var server = await TestServer.StartAsync(("MemSvc:JournalRetention", "16"));
        await Ctl.OkAsync(server, "vm", "create", "--id", "busy");
        await Ctl.OkAsync(server, "vcpu", "load", "busy", "0", "--steps", string.Join(";", Enumerable.Repeat("report 1", 30)) + "; halt");
        await Ctl.OkAsync(server, "vcpu", "start", "busy", "0");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(await Ctl.OkAsync(server, "vcpu", "get", "busy", "0")).Out.Contains("halted", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the vCPU did not halt");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        var result = await Ctl.RunAsync(server, "events", "watch", "--vm", "busy", "--from", "1");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("error: OUT_OF_RANGE (SEQUENCE_COMPACTED)", result.Error, StringComparison.Ordinal);
        Assert.Matches(@"hint: the journal now starts at #(\d+); watch again with --from \1", result.Error);
    }

    [Fact]
    public async Task Help_documents_every_noun_and_the_exit_codes()
    {
        var result = await Ctl.RunAsync(_server, "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var noun in new[] { "vm", "gmem", "region", "attr", "convert", "mem", "vcpu", "events", "fault", "host", "demo" })
        {
            Assert.Matches($@"\n  {noun}\b", result.Out);
        }

        Assert.Contains("9    UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED", result.Out, StringComparison.Ordinal);
    }
}
