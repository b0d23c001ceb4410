namespace MemSvc.Cli.Infrastructure;

/// <summary>What the command line reads from its process, replaceable so that tests run it in-process.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Variable">Environment variable lookup.</param>
/// <param name="IsTerminal">Whether standard output is a terminal (for colours and live progress).</param>
internal sealed record CliEnvironment(TextWriter Out, TextWriter Error, Func<string, string?> Variable, bool IsTerminal)
{
    public static CliEnvironment FromProcess() =>
        new(Console.Out, Console.Error, Environment.GetEnvironmentVariable, !Console.IsOutputRedirected);
}
