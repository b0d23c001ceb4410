using System.Diagnostics;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// docker-compose.yml, plus any override files, as one compose project of its own (a fresh project name, so that
/// nothing of an operator's or another run's project is touched), run with the compose tool installed here and
/// with the variables the file reads.
/// </summary>
internal sealed class ComposeProject
{
    private readonly string[] _tool;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string[] _projectArguments;

    /// <param name="overrides">Files merged over docker-compose.yml, relative to the repository.</param>
    public ComposeProject(string[] tool, IReadOnlyDictionary<string, string> environment, string profile, IEnumerable<string> overrides)
    {
        _tool = tool;
        _environment = environment;
        _projectArguments =
        [
            "-p", "memsvc-it-" + Guid.NewGuid().ToString("N")[..8],
            "-f", Path.Combine(RepositoryLayout.Root, "docker-compose.yml"),
            .. overrides.SelectMany(file => new[] { "-f", Path.Combine(RepositoryLayout.Root, file) }),
            "--profile", profile,
        ];
    }

    /// <summary>`docker compose` (the plugin) where it exists, else Debian's docker-compose v1; null when neither.</summary>
    public static string[]? FindTool() =>
        Run(["docker"], new Dictionary<string, string>(), ["compose", "version"]).ExitCode == 0 ? ["docker", "compose"]
        : Run(["docker-compose"], new Dictionary<string, string>(), ["version"]).ExitCode == 0 ? ["docker-compose"]
        : null;

    /// <summary>A compose command (up, logs, down, ...) on this project; its exit code and its output.</summary>
    public (int ExitCode, string Output) Run(params string[] arguments) => Run(_tool, _environment, [.. _projectArguments, .. arguments]);

    private static (int ExitCode, string Output) Run(string[] tool, IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        var start = new ProcessStartInfo(tool[0], [.. tool[1..], .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
