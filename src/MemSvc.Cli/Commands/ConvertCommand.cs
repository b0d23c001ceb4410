using System.CommandLine;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl convert</c>: a conversion as QEMU's kvm_convert_memory does it.</summary>
internal static class ConvertCommand
{
    public static Command Build(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var gpa = CliArgs.Number("--gpa", "First guest-physical address (page aligned)");
        var size = CliArgs.Number("--size", "Length in bytes (page aligned)");
        var to = CliArgs.Word<MemoryVisibility>("--to", "What the range becomes", EnumWords.Visibilities);
        var command = new Command("convert", "Convert a range to private or shared, releasing the side no longer used") { vm, gpa, size, to };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var (g, s, target) = (parse.GetValue(gpa), parse.GetValue(size), parse.GetValue(to));
            var sequence = await context.Client.Memory.ConvertMemoryAsync(parse.GetValue(vm)!, g, s, target, ct).ConfigureAwait(false);
            await context.ReportAsync(
                $"converted {Units.Gpa(g)}-{Units.Gpa(g + s)} ({Units.Size(s)}) to {EnumWords.Word(EnumWords.Visibilities, target)} (event #{sequence})",
                () =>
                {
                    var facts = JsonOutput.Node(new ConvertMemoryRequest { Vm = Client.ResourceNames.Vm(parse.GetValue(vm)!), Gpa = g, Size = s, Target = target });
                    facts["eventSequence"] = JsonOutput.Number(sequence);
                    return facts;
                }).ConfigureAwait(false);
        });
        return command;
    }
}
