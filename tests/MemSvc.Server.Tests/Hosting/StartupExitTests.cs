using MemSvc.Server.Hosting;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// D16: a second server on a live socket refused to take it over, but through an unhandled exception (SIGABRT,
/// exit 134, a stack trace; a restart loop under Restart=on-failure). The real binary, in a child process: how it
/// exits is what is tested.
/// </summary>
public sealed class StartupExitTests
{
    [Fact]
    public async Task A_second_server_on_a_live_socket_exits_73_with_one_clear_line_and_the_first_serves_on()
    {
        await using var first = await RunningServer.StartAsync();

        var (exitCode, output) = await ChildServer.RunToExitAsync(Path.GetDirectoryName(first.SocketPath)!);
        var stillServing = await new Clients(first.SocketChannel()).Vms.ListVmsAsync(new(), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(StartupExit.ListenerUnavailable, exitCode);
        Assert.Contains($"memsvc: cannot start: Another server listens on {first.SocketPath}; stop it or set MemSvc:SocketPath.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.Empty(stillServing.Vms);
    }

    [Fact]
    public async Task A_loopback_port_in_use_exits_73()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var directory = Directory.CreateTempSubdirectory("memsvc-child-").FullName;
        try
        {
            var (exitCode, output) = await ChildServer.RunToExitAsync(directory, ("MemSvc:LoopbackPort", port));

            Assert.Equal(StartupExit.ListenerUnavailable, exitCode);
            Assert.Contains($"memsvc: cannot start: Failed to bind to address http://127.0.0.1:{port}: address already in use.", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_configuration_that_cannot_work_exits_78_naming_each_problem()
    {
        var directory = Directory.CreateTempSubdirectory("memsvc-child-").FullName;
        try
        {
            var (exitCode, output) = await ChildServer.RunToExitAsync(directory, ("MemSvc:JournalRetention", "1"));

            Assert.Equal(StartupExit.Configuration, exitCode);
            Assert.Contains("memsvc: cannot start: MemSvc:JournalRetention must be 16 to 16777216 events, not 1.", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
