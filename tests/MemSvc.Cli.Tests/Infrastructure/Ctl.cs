using MemSvc.Cli;
using MemSvc.Cli.Infrastructure;
using MemSvc.Testing;

namespace MemSvc.Cli.Tests.Infrastructure;

/// <summary>What one memsvcctl invocation printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs memsvcctl in this process, as its Main would, with captured output and a chosen environment.</summary>
public static class Ctl
{
    /// <summary>Runs against <paramref name="server"/>, found through MEMSVC_ADDRESS as an operator would set it.</summary>
    public static Task<CliResult> RunAsync(TestServer server, params string[] args) =>
        RunAsync(new Dictionary<string, string> { ["MEMSVC_ADDRESS"] = server.Loopback.ToString() }, args);

    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunAsync(environment, TimeSpan.FromSeconds(30), args);

    /// <summary>Runs with a time limit: a command that would wait forever is interrupted (exit code 130) instead.</summary>
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, TimeSpan limit, params string[] args) =>
        RunAsync(environment, limit, CancellationToken.None, args);

    /// <summary>Runs until done, the time limit, or <paramref name="interrupt"/> (as Ctrl-C would).</summary>
    public static async Task<CliResult> RunAsync(
        IReadOnlyDictionary<string, string> environment, TimeSpan limit, CancellationToken interrupt, params string[] args)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, interrupt);
        timeout.CancelAfter(limit);
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var cli = new CliEnvironment(output, error, name => environment.GetValueOrDefault(name), IsTerminal: false);
        var code = await MemsvcCtl.RunAsync(args, cli, timeout.Token);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static Task<CliResult> RunAsync(TestServer server, CancellationToken interrupt, params string[] args) =>
        RunAsync(new Dictionary<string, string> { ["MEMSVC_ADDRESS"] = server.Loopback.ToString() }, TimeSpan.FromSeconds(30), interrupt, args);

    /// <summary>Runs and insists on exit code 0, showing everything printed when it is not.</summary>
    public static async Task<CliResult> OkAsync(TestServer server, params string[] args)
    {
        var result = await RunAsync(server, args);
        Assert.True(result.ExitCode == 0, $"memsvcctl {string.Join(' ', args)}\n{result}");
        return result;
    }
}
