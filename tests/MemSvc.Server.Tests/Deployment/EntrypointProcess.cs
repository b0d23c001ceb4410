using System.Diagnostics;
using System.Text;
using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;
using static MemSvc.Server.Tests.Deployment.KubernetesManifest;

namespace MemSvc.Server.Tests.Deployment;

/// <summary>
/// One pod's container of deploy/kubernetes/daemonset.yaml, on this machine: the container's command (the shell
/// script and its arguments, read from the manifest) with the real server in place of the image's /app/MemSvc.Server,
/// the manifest's socket path variable pointing into a test directory, simulated backend.
/// </summary>
public sealed class EntrypointProcess : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private EntrypointProcess(Process process) => _process = process;

    /// <summary>The container's command from the manifest: /bin/sh, -c, the script, $0, then the image's server.</summary>
    public static IReadOnlyList<string> Command
    {
        get
        {
            var server = Named(At(Load("daemonset.yaml").Root, "spec.template.spec"), "containers", "memsvc");
            return [.. ((YamlSequenceNode)At(server, "command")!).Children.Select(c => ((YamlScalarNode)c).Value!)];
        }
    }

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

    public static EntrypointProcess Start(string directory)
    {
        var command = Command;
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };

        // The script and $0 as the manifest has them; the image's server replaced by this build's.
        foreach (var argument in (string[])[.. command.Skip(1).Take(3), "dotnet", Path.Combine(AppContext.BaseDirectory, "MemSvc.Server.dll")])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["MemSvc__SocketPath"] = Path.Combine(directory, "memsvc.sock");
        start.Environment["MemSvc__Journal__Directory"] = Path.Combine(directory, "journal");
        start.Environment["MemSvc__DefaultBackend"] = "simulated";
        start.Environment["MemSvc__OpenKvm"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var process = new EntrypointProcess(Process.Start(start)!);
        process._process.OutputDataReceived += (_, line) => process.Take(line.Data);
        process._process.ErrorDataReceived += (_, line) => process.Take(line.Data);
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The host info of the server answering on the socket, once one answers whose instance is not <paramref name="previous"/>.</summary>
    public static async Task<GetHostInfoResponse> ServingAsync(Clients clients, string? previous = null)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var info = await clients.Host.GetHostInfoAsync(new(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: TestContext.Current.CancellationToken);
                if (info.InstanceId != previous)
                {
                    return info;
                }
            }
            catch (RpcException) when (started.Elapsed < Patience)
            {
                // Not listening yet, or handing off.
            }

            Assert.True(started.Elapsed < Patience, "no new server answered");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The container's main process (the shell) and every process it started, as a SIGKILL of the container would.</summary>
    public void KillAll()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM to the shell, as kubelet stops a container; its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(Patience, TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    public async Task WaitForOutputAsync(string text)
    {
        var started = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(started.Elapsed < Patience, $"no \"{text}\" in:\n{Output}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            KillAll();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
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
