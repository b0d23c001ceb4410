using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl gmem create|get|list|allocate|discard|delete</c>: guest_memfd files.</summary>
internal static class GmemCommands
{
    public static Command Build(CommandRunner runner)
    {
        var gmem = new Command("gmem", "guest_memfd files (KVM_CREATE_GUEST_MEMFD)");
        gmem.Subcommands.Add(Create(runner));
        gmem.Subcommands.Add(Get(runner));
        gmem.Subcommands.Add(List(runner));
        gmem.Subcommands.Add(Range(runner, "allocate", "allocated", "Allocate a range (fallocate KEEP_SIZE)", (c, n, o, s, ct) => c.Client.Memory.AllocateGuestMemfdAsync(n, o, s, ct)));
        gmem.Subcommands.Add(Range(runner, "discard", "discarded", "Free a range (fallocate PUNCH_HOLE|KEEP_SIZE)", (c, n, o, s, ct) => c.Client.Memory.DiscardGuestMemfdAsync(n, o, s, ct)));
        gmem.Subcommands.Add(Delete(runner));
        return gmem;
    }

    private static string Flags(GuestMemfd g) =>
        g.Flags.Count == 0 ? "-" : string.Join(",", g.Flags.Select(f => EnumWords.Word(EnumWords.GuestMemfdFlags, f)));

    private static string Rows(IEnumerable<GuestMemfd> files)
    {
        var table = new Table("NAME", "SIZE", "FLAGS", "CREATED");
        foreach (var g in files)
        {
            table.Add(g.Name, Units.Size(g.Size), Flags(g), Units.Time(g.CreateTime));
        }

        return table.Render();
    }

    private static Command Create(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var size = CliArgs.Number("--size", "File size in bytes (page aligned)");
        var flags = CliArgs.Words("--flags", "GUEST_MEMFD_FLAG_*", EnumWords.GuestMemfdFlags);
        var command = new Command("create", "Create a guest_memfd") { vm, size, flags };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var created = await context.Client.Memory.CreateGuestMemfdAsync(parse.GetValue(vm)!, parse.GetValue(size), parse.GetValue(flags), ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(created) + "\n" : Rows([created])).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var id = CliArgs.NumberArgument("id", "The guest_memfd's id");
        var command = new Command("get", "Show a guest_memfd") { vm, id };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var found = await context.Client.Memory.GetGuestMemfdAsync(ResourceNames.GuestMemfd(parse.GetValue(vm)!, parse.GetValue(id)), ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(found) + "\n" : Rows([found])).ConfigureAwait(false);
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var command = new Command("list", "List a VM's open guest_memfds") { vm };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var files = await context.Client.Memory.ListGuestMemfdsAsync(parse.GetValue(vm)!, ct).ToListAsync(ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Array(files) + "\n" : Rows(files)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Range(
        CommandRunner runner, string verb, string done, string description, Func<CliContext, string, ulong, ulong, CancellationToken, Task> call)
    {
        var vm = CliArgs.Vm();
        var id = CliArgs.NumberArgument("id", "The guest_memfd's id");
        var offset = CliArgs.Number("--offset", "First byte (page aligned)", defaultValue: 0);
        var size = CliArgs.Number("--size", "Length in bytes (page aligned)");
        var command = new Command(verb, description) { vm, id, offset, size };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = ResourceNames.GuestMemfd(parse.GetValue(vm)!, parse.GetValue(id));
            var (o, s) = (parse.GetValue(offset), parse.GetValue(size));
            await call(context, name, o, s, ct).ConfigureAwait(false);
            await context.ReportAsync(
                string.Create(CultureInfo.InvariantCulture, $"{done} {name} [{Units.Hex(o)}, {Units.Hex(o + s)}) {Units.Size(s)}"),
                () => new JsonObject { [done] = name, ["offset"] = JsonOutput.Number(o), ["size"] = JsonOutput.Number(s) }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var id = CliArgs.NumberArgument("id", "The guest_memfd's id");
        var command = new Command("delete", "Close a guest_memfd (memslots bound to it stay)") { vm, id };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = ResourceNames.GuestMemfd(parse.GetValue(vm)!, parse.GetValue(id));
            await context.Client.Memory.DeleteGuestMemfdAsync(name, ct).ConfigureAwait(false);
            await context.ReportAsync($"deleted {name}", () => new JsonObject { ["deleted"] = name }).ConfigureAwait(false);
        });
        return command;
    }
}
