using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace MemSvc.LoadDriver.Hosting;

/// <summary>
/// The real server in a process of its own (`dotnet MemSvc.Server.dll` from beside the driver), on a Unix socket in
/// a directory of the suite's, simulated backend, limits raised for 1,000 VMs of one owner: what a handoff hands
/// from and to (the old process ends with _exit, which an in-process server cannot survive).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _tookOver = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process) => _process = process;

    /// <summary>A server that took over: its log line saying how long the vCPUs were paused, from when to when.</summary>
    public Task<string> TookOverLine => _tookOver.Task;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ServerProcess Start(string directory, bool takeOver)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "MemSvc.Server.dll"),
            $"--MemSvc:SocketPath={SocketPath(directory)}",
            "--MemSvc:DefaultBackend=simulated",
            "--MemSvc:OpenKvm=false",
            "--MemSvc:Quotas:MaxVmsPerOwner=2000",
            "--MemSvc:Quotas:MaxGuestMemfdsPerOwner=2000",
            "--MemSvc:Quotas:MaxGuestMemoryBytesPerOwner=" + (1UL << 40).ToString(CultureInfo.InvariantCulture),
            "--MemSvc:Quotas:MaxJournalEventsPerOwner=100000000",
            "--MemSvc:HostMemory:OvercommitRatio=64",
            "--MemSvc:RateLimit:MutationsPerMinute=10000000",
            "--MemSvc:RateLimit:MutationBurst=1000000",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:MemSvc.Server.Handoff.Takeover=Information",
            $"--MemSvc:Handoff:TakeOver={(takeOver ? "true" : "false")}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");

        // Drained so that a full pipe never stalls the server; warnings are not the measurement.
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("vCPUs were paused", StringComparison.Ordinal) == true)
            {
                server._tookOver.TrySetResult(line.Data);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    public static string SocketPath(string directory) => Path.Combine(directory, "memsvc.sock");

    /// <summary>A channel over the socket at <paramref name="socketPath"/>: it reconnects to whichever server listens there.</summary>
    public static GrpcChannel Channel(string socketPath) => GrpcChannel.ForAddress("http://memsvc", new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 16 << 20,
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        },
    });

    public async Task<int> ExitCodeAsync(TimeSpan patience)
    {
        await _process.WaitForExitAsync().WaitAsync(patience).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
    }
}
