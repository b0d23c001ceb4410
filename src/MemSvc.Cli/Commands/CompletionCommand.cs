using System.CommandLine;
using MemSvc.Cli.Completion;
using MemSvc.Cli.Infrastructure;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl completion bash</c>: the shell completion script, which needs no server.</summary>
internal static class CompletionCommand
{
    public const string Program = "memsvcctl";

    public static Command Build(RootCommand root, CliEnvironment environment)
    {
        var shell = new Argument<string>("shell") { Description = "The shell: bash (zsh can load it after `autoload -U +X bashcompinit && bashcompinit`)" };
        shell.AcceptOnlyFromAmong("bash");
        var command = new Command("completion", $"Print a shell completion script: source <({Program} completion bash)") { shell };
        command.SetAction(async (_, cancellationToken) =>
        {
            await environment.Out.WriteAsync(BashCompletion.Script(root, Program).AsMemory(), cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
