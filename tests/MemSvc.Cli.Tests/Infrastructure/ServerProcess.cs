using System.Diagnostics;
using System.Text;
using MemSvc.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Tests.Infrastructure;

/// <summary>
/// The real server binary in a child process (`dotnet MemSvc.Server.dll`, as a framework-dependent install runs it),
/// on a Unix socket in a directory of the test's, simulated backend, journals on disk: what `daemon upgrade` reads
/// the configuration of and hands off from.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, string socketPath)
    {
        _process = process;
        SocketPath = socketPath;
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "MemSvc.Server.dll");

    public string SocketPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The configuration every server of a test directory starts with.</summary>
    public static string[] Arguments(string directory) =>
    [
        $"--MemSvc:SocketPath={Path.Combine(directory, "memsvc.sock")}",
        "--MemSvc:DefaultBackend=simulated",
        "--MemSvc:OpenKvm=false",
        $"--MemSvc:Journal:Directory={Path.Combine(directory, "journal")}",
    ];

    /// <summary>Starts the server and returns once it answers GetHostInfo on its socket.</summary>
    public static async Task<ServerProcess> StartAsync(string directory)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-c", "exec dotnet \"$@\"", "sh", Dll, .. Arguments(directory)])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        var server = new ServerProcess(Process.Start(start)!, Path.Combine(directory, "memsvc.sock"));
        server._process.OutputDataReceived += (_, line) => server.Take(line.Data);
        server._process.ErrorDataReceived += (_, line) => server.Take(line.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await WaitServingAsync(server.SocketPath, () => server._process.HasExited ? server.Output : null);
        return server;
    }

    /// <summary>Waits until a server answers on <paramref name="socketPath"/>; <paramref name="failed"/> says why when it never will.</summary>
    public static async Task<GetHostInfoResponse> WaitServingAsync(string socketPath, Func<string?> failed)
    {
        using var client = MemSvcClient.ForSocket(socketPath);
        var started = Stopwatch.StartNew();
        while (true)
        {
            if (failed() is { } why)
            {
                throw new InvalidOperationException($"the server on {socketPath} exited:\n{why}");
            }

            if (File.Exists(socketPath))
            {
                try
                {
                    return await client.Host.GetInfoAsync(TestContext.Current.CancellationToken);
                }
                catch (Client.Errors.MemSvcException) when (started.Elapsed < StartPatience)
                {
                    // Not listening yet.
                }
            }

            Assert.True(started.Elapsed < StartPatience, $"no server on {socketPath} after {StartPatience}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public async Task<int> ExitCodeAsync()
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(StartPatience, TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Ends a server this test did not start itself (one `daemon upgrade` started), if it still runs.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(StartPatience);
        }
        catch (ArgumentException)
        {
            // Gone already.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
    }

    private void Take(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
