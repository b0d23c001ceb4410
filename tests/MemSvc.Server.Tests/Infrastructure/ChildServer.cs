using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Grpc.Net.Client;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// The real server binary in a child process, for what an in-process server cannot show: a process-wide limit
/// (its own open-file limit, set with the shell's ulimit before exec) and how the process ends (an exit code, an
/// abort). It listens on a Unix socket in a fresh directory and on an ephemeral 127.0.0.1 port, simulated backend.
/// </summary>
public sealed partial class ChildServer : IAsyncDisposable
{
    private static readonly TimeSpan StartPatience = SlowHost.Scaled(TimeSpan.FromSeconds(60));

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _loopback = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<GrpcChannel> _channels = [];

    // A directory the caller gave (StartInAsync) outlives this server: the next one starts in it.
    private bool _ownsDirectory = true;

    private ChildServer(Process process, string directory)
    {
        _process = process;
        Directory = directory;
        SocketPath = Path.Combine(directory, "memsvc.sock");
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public Uri Loopback => _loopback.Task.Result;

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    /// <summary>Everything the server wrote to stdout and stderr so far.</summary>
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

    /// <summary>Starts the server and returns once it listens on both listeners, or fails with its output.</summary>
    /// <param name="openFiles">The child's open-file limit (soft and hard), or null to inherit this process's.</param>
    /// <param name="settings">Extra configuration, as --Key=Value arguments.</param>
    public static Task<ChildServer> StartAsync(int? openFiles, params (string Key, string Value)[] settings) =>
        WaitListeningAsync(Launch(openFiles, System.IO.Directory.CreateTempSubdirectory("memsvc-child-").FullName, settings));

    /// <summary>
    /// Starts the server with its socket in <paramref name="directory"/>, which it leaves there when disposed, so
    /// that another server can start in it after this one (a restart: the same socket, the same journal files).
    /// </summary>
    public static async Task<ChildServer> StartInAsync(string directory, params (string Key, string Value)[] settings)
    {
        var server = Launch(null, directory, settings);
        server._ownsDirectory = false;
        return await WaitListeningAsync(server);
    }

    private static async Task<ChildServer> WaitListeningAsync(ChildServer server)
    {
        try
        {
            await server._loopback.Task.WaitAsync(StartPatience, TestContext.Current.CancellationToken);
            return server;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            var output = server.Output;
            await server.DisposeAsync();
            throw new InvalidOperationException($"the child server did not start: {e.Message}\n{output}", e);
        }
    }

    /// <summary>Starts the server on an existing directory's socket and waits for it to exit (it is expected to refuse to start).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string directory, params (string Key, string Value)[] settings)
    {
        var server = Launch(null, directory, settings);
        try
        {
            await server._process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(StartPatience, TestContext.Current.CancellationToken);
            return (server._process.ExitCode, server.Output);
        }
        finally
        {
            if (!server._process.HasExited)
            {
                server._process.Kill();
            }

            server._process.Dispose();
        }
    }

    /// <summary>A channel over the Unix socket.</summary>
    public GrpcChannel SocketChannel()
    {
        var channel = RunningServer.SocketChannelTo(SocketPath);
        _channels.Add(channel);
        return channel;
    }

    /// <summary>A channel over loopback TCP.</summary>
    public GrpcChannel LoopbackChannel()
    {
        var channel = GrpcChannel.ForAddress(Loopback);
        _channels.Add(channel);
        return channel;
    }

    /// <summary>SIGKILL, as an OOM kill or a crash would end it: nothing of its own clean-up runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>SIGTERM, as systemd or the kubelet stops it: its graceful shutdown runs. Returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(StartPatience, TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Waits for the server to exit on its own (a handoff ends it); returns its exit code.</summary>
    public async Task<int> ExitCodeAsync()
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(StartPatience, TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>The child's open file descriptors now.</summary>
    public int OpenFds() => System.IO.Directory.GetFiles($"/proc/{_process.Id}/fd").Length;

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
        if (_ownsDirectory)
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static ChildServer Launch(int? openFiles, string directory, (string Key, string Value)[] settings)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MemSvc.Server.dll");

        // The shell lowers its own limit, soft and hard (the runtime raises the soft one to the hard one at start),
        // then becomes the server, so that the limit is the server's and nothing else's.
        var limit = openFiles is { } n ? $"ulimit -n {n.ToString(CultureInfo.InvariantCulture)} && " : string.Empty;
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(limit + "exec dotnet \"$@\"");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(dll);
        foreach (var argument in new[]
        {
            $"--MemSvc:SocketPath={Path.Combine(directory, "memsvc.sock")}",
            "--MemSvc:LoopbackPort=0",
            "--MemSvc:DefaultBackend=simulated",
            "--MemSvc:OpenKvm=false",
        }.Concat(settings.Select(s => $"--{s.Key}={s.Value}")))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var server = new ChildServer(process, directory);
        process.OutputDataReceived += (_, line) => server.Take(line.Data);
        process.ErrorDataReceived += (_, line) => server.Take(line.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => server._loopback.TrySetException(new InvalidOperationException($"the server exited with {process.ExitCode}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void Take(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (LoopbackLine().Match(line) is { Success: true } match)
        {
            _loopback.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    // Kestrel's own "Now listening on" line: printed once the port is bound, whatever MemSvc's announcer says.
    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex LoopbackLine();
}
