using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl region set|get|delete|list|revoke</c>: memslots.</summary>
internal static class RegionCommands
{
    public static Command Build(CommandRunner runner)
    {
        var region = new Command("region", "Memory regions (memslots, KVM_SET_USER_MEMORY_REGION2)");
        region.Subcommands.Add(Set(runner));
        region.Subcommands.Add(One(runner, "get", "Show a memory region", (c, n, ct) => c.Client.Memory.GetMemoryRegionAsync(n, ct)));
        region.Subcommands.Add(Delete(runner));
        region.Subcommands.Add(List(runner));
        region.Subcommands.Add(One(runner, "revoke", "Drop a gmem-only region's backing: the guest's next access faults", (c, n, ct) => c.Client.Memory.RevokeMemoryRegionBackingAsync(n, ct)));
        return region;
    }

    private static string Rows(IEnumerable<MemoryRegion> regions)
    {
        var table = new Table("SLOT", "GPA", "END", "SIZE", "FLAGS", "GUEST_MEMFD", "OFFSET", "SHARED", "REVOKED");
        foreach (var r in regions)
        {
            table.Add(r.Slot.ToString(CultureInfo.InvariantCulture), Units.Gpa(r.Gpa), Units.Gpa(r.Gpa + r.Size), Units.Size(r.Size),
                r.Flags.Count == 0 ? "-" : string.Join(",", r.Flags.Select(f => EnumWords.Word(EnumWords.RegionFlags, f))),
                r.GuestMemfd.Length == 0 ? "-" : r.GuestMemfd, Units.Hex(r.GuestMemfdOffset),
                EnumWords.Word(EnumWords.SharedBackings, r.SharedBacking), r.BackingRevoked ? "yes" : "no");
        }

        return table.Render();
    }

    private static Command Set(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var slot = new Option<uint>("--slot") { Description = "Slot id: (address space << 16) | slot", Required = true };
        var gpa = CliArgs.Number("--gpa", "First guest-physical address (page aligned)");
        var size = CliArgs.Number("--size", "Length in bytes (page aligned)");
        var gmem = new Option<ulong?>("--gmem") { Description = "Id of the guest_memfd serving private accesses (adds the guest-memfd flag)", HelpName = "ID" };
        var offset = CliArgs.Number("--gmem-offset", "Offset of the slot's first page in the guest_memfd", defaultValue: 0);
        var flags = CliArgs.Words("--flags", "KVM_MEM_* flags", EnumWords.RegionFlags);
        var backing = CliArgs.Word("--shared-backing", "What serves shared accesses", EnumWords.SharedBackings, SharedBacking.Anonymous);
        var command = new Command("set", "Create a memslot") { vm, slot, gpa, size, gmem, offset, flags, backing };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = parse.GetValue(vm)!;
            var request = new SetMemoryRegionRequest
            {
                Parent = name,
                Slot = parse.GetValue(slot),
                Gpa = parse.GetValue(gpa),
                Size = parse.GetValue(size),
                GuestMemfdOffset = parse.GetValue(offset),
                SharedBacking = backing.Value(parse),
            };
            request.Flags.AddRange(parse.GetValue(flags)!.Distinct());
            if (parse.GetValue(gmem) is { } id)
            {
                request.GuestMemfd = ResourceNames.GuestMemfd(name, id);
                if (!request.Flags.Contains(MemoryRegionFlag.GuestMemfd))
                {
                    request.Flags.Add(MemoryRegionFlag.GuestMemfd);
                }
            }

            var set = await context.Client.Memory.SetMemoryRegionAsync(request, ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(set) + "\n" : Rows([set])).ConfigureAwait(false);
        });
        return command;
    }

    private static Command One(CommandRunner runner, string verb, string description, Func<CliContext, string, CancellationToken, Task<MemoryRegion>> call)
    {
        var vm = CliArgs.Vm();
        var slot = CliArgs.Index("slot", "The slot id");
        var command = new Command(verb, description) { vm, slot };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var region = await call(context, ResourceNames.MemoryRegion(parse.GetValue(vm)!, parse.GetValue(slot)), ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(region) + "\n" : Rows([region])).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var slot = CliArgs.Index("slot", "The slot id");
        var command = new Command("delete", "Delete a memslot") { vm, slot };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = ResourceNames.MemoryRegion(parse.GetValue(vm)!, parse.GetValue(slot));
            await context.Client.Memory.DeleteMemoryRegionAsync(name, ct).ConfigureAwait(false);
            await context.ReportAsync($"deleted {name}", () => new JsonObject { ["deleted"] = name }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var command = new Command("list", "List a VM's memslots") { vm };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var regions = await context.Client.Memory.ListMemoryRegionsAsync(parse.GetValue(vm)!, ct).ToListAsync(ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Array(regions) + "\n" : Rows(regions)).ConfigureAwait(false);
        });
        return command;
    }
}
