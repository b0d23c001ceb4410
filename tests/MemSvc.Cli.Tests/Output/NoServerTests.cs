using System.Net.Sockets;
using MemSvc.Cli.Output;
using MemSvc.Cli.Tests.Infrastructure;

namespace MemSvc.Cli.Tests.Output;

/// <summary>No server answers: memsvcctl says where it looked, why nobody was there, and how to start one.</summary>
public sealed class NoServerTests
{
    [Fact]
    public async Task A_missing_socket_file_is_named_with_the_option_that_chose_it()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"memsvc-none-{Guid.NewGuid():N}.sock");

        var result = await Ctl.RunAsync(new Dictionary<string, string>(), "--socket", socket, "vm", "list");

        Assert.Equal((9, string.Empty), (result.ExitCode, result.Out));
        Assert.Equal(
            $"error: no MemSvc server answered at unix:{socket} (--socket): there is no socket file at that path\n{NoServerText.Hint}\n",
            result.Error);
    }

    [Fact]
    public async Task A_socket_file_nobody_listens_on_is_told_apart_from_a_missing_one()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"memsvc-stale-{Guid.NewGuid():N}.sock");

        // Bound but not listening, as a killed server leaves it: connecting is refused while the file is there.
        using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        bound.Bind(new UnixDomainSocketEndPoint(socket));

        var result = await Ctl.RunAsync(new Dictionary<string, string> { ["MEMSVC_SOCKET"] = socket }, "host", "info");

        Assert.Equal(9, result.ExitCode);
        Assert.Equal(
            $"error: no MemSvc server answered at unix:{socket} (MEMSVC_SOCKET): the socket file exists but nothing listens on it (a server that stopped?)\n{NoServerText.Hint}\n",
            result.Error);
    }

    [Fact]
    public async Task A_refused_address_is_named_with_the_variable_that_chose_it()
    {
        var result = await Ctl.RunAsync(new Dictionary<string, string> { ["MEMSVC_ADDRESS"] = "http://127.0.0.1:1" }, "vm", "list");

        Assert.Equal(9, result.ExitCode);
        Assert.Equal(
            $"error: no MemSvc server answered at http://127.0.0.1:1/ (MEMSVC_ADDRESS): connection refused (nothing listens on that port)\n{NoServerText.Hint}\n",
            result.Error);
    }

    [Fact]
    public void The_hint_says_how_to_start_a_server_and_how_to_point_at_one()
    {
        Assert.Contains("dotnet run --project src/MemSvc.Server", NoServerText.Hint, StringComparison.Ordinal);
        Assert.Contains("--socket PATH or --address URL", NoServerText.Hint, StringComparison.Ordinal);
    }
}
