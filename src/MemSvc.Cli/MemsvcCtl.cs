using System.CommandLine;
using MemSvc.Cli.Commands;
using MemSvc.Cli.Infrastructure;

namespace MemSvc.Cli;

/// <summary>memsvcctl's entry: the command tree, parsed and run with the given writers and environment.</summary>
internal static class MemsvcCtl
{
    public static RootCommand Build(CliEnvironment environment)
    {
        var options = new GlobalOptions();
        var runner = new CommandRunner(options, environment);
        var root = new RootCommand($"""
            memsvcctl: the operator's command line for MemSvc (guest_memfd, memslots, private/shared memory, faults).

            {ExitCodes.Table}
            """);
        foreach (var option in options.All)
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(VmCommands.Build(runner));
        root.Subcommands.Add(GmemCommands.Build(runner));
        root.Subcommands.Add(RegionCommands.Build(runner));
        root.Subcommands.Add(AttrCommands.Build(runner));
        root.Subcommands.Add(ConvertCommand.Build(runner));
        root.Subcommands.Add(MemCommands.Build(runner));
        root.Subcommands.Add(VcpuCommands.Build(runner));
        root.Subcommands.Add(EventsCommands.Build(runner));
        root.Subcommands.Add(FaultCommands.Build(runner));
        root.Subcommands.Add(HostCommands.Build(runner));
        root.Subcommands.Add(DemoCommand.Build(runner));
        root.Subcommands.Add(DaemonCommands.Build(runner, environment));
        root.Subcommands.Add(CompletionCommand.Build(root, environment));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var root = Build(environment);
        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration { Output = environment.Out, Error = environment.Error };
        if (parse.Errors.Count > 0)
        {
            // Parse errors print themselves (and the usage); the exit code is ours: 2, as for other usage errors.
            await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }
}
