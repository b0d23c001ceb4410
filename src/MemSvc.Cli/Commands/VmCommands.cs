using System.CommandLine;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl vm create|get|list|delete</c>.</summary>
internal static class VmCommands
{
    public static Command Build(CommandRunner runner)
    {
        var vm = new Command("vm", "Virtual machines");
        vm.Subcommands.Add(Create(runner));
        vm.Subcommands.Add(Get(runner));
        vm.Subcommands.Add(List(runner));
        vm.Subcommands.Add(Delete(runner));
        return vm;
    }

    public static string Describe(Vm vm) => new Table("field", "value")
        .Add("name", vm.Name)
        .Add("uid", vm.Uid)
        .Add("owner", vm.Owner)
        .Add("backend", EnumWords.Kebab(vm.Backend))
        .Add("type", EnumWords.Kebab(vm.VmType))
        .Add("vcpus", vm.VcpuCount.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Add("policy", EnumWords.Kebab(vm.FaultPolicy))
        .Add("resolution timeout", vm.ResolutionTimeout?.ToTimeSpan().ToString() ?? "-")
        .Add("timeout fallback", EnumWords.Kebab(vm.TimeoutFallback))
        .Add("state", EnumWords.Kebab(vm.State))
        // Where `events watch --from` picks up: this plus one is the next event.
        .Add("last event", vm.LastEventSequence.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Add("created", Units.Time(vm.CreateTime))
        .Render();

    private static Command Create(CommandRunner runner)
    {
        var id = new Option<string?>("--id") { Description = "The VM's id (lower case, digits, '-'); default: the server picks one" };
        var backend = CliArgs.Word("--backend", "Backend", EnumWords.Backends, Backend.Unspecified, "the server's");
        var type = CliArgs.Word("--type", "VM type", EnumWords.VmTypes, VmType.Default);
        var vcpus = new Option<uint>("--vcpus") { Description = "Number of vCPUs", DefaultValueFactory = _ => 1 };
        var policy = CliArgs.Word("--policy", "Who resolves faults", EnumWords.Policies, FaultPolicy.Auto);
        var timeout = new Option<double?>("--resolution-timeout") { Description = "Seconds a fault waits for fault resolve (orchestrator policy); default: the server's", HelpName = "SECONDS" };
        var fallback = CliArgs.Word("--fallback", "Applied to a fault nobody resolved in time", EnumWords.Actions, FaultAction.Fail);
        var command = new Command("create", "Create a VM") { id, backend, type, vcpus, policy, timeout, fallback };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var request = new CreateVmRequest
            {
                VmId = parse.GetValue(id) ?? string.Empty,
                Backend = backend.Value(parse),
                VmType = type.Value(parse),
                VcpuCount = parse.GetValue(vcpus),
                FaultPolicy = policy.Value(parse),
                TimeoutFallback = fallback.Value(parse),
            };
            if (parse.GetValue(timeout) is { } seconds)
            {
                request.ResolutionTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds));
            }

            var created = await context.Client.Vms.CreateAsync(request, ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(created) + "\n" : Describe(created)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var width = new Option<int>("--width") { Description = "Cells per memslot in the memory map", DefaultValueFactory = _ => MemoryMap.DefaultWidth };
        var command = new Command("get", "Show a VM, its vCPUs and its memory map") { vm, width };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = parse.GetValue(vm)!;
            var found = await context.Client.Vms.GetAsync(name, ct).ConfigureAwait(false);
            var vcpus = await context.Client.Vcpus.ListAsync(name, ct).ToListAsync(ct).ConfigureAwait(false);
            if (context.Json)
            {
                // Everything the table shows: the VM, its vCPUs and its memory map.
                var slots = await MemoryMapView.LoadAsync(context.Client, name, ct).ConfigureAwait(false);
                var all = new JsonObject { ["vm"] = JsonOutput.Node(found), ["vcpus"] = JsonOutput.Nodes(vcpus), ["memoryMap"] = MemoryMapView.Json(name, slots) };
                await context.Out.WriteLineAsync(JsonOutput.Format(all)).ConfigureAwait(false);
                return;
            }

            await context.Out.WriteAsync(Describe(found)).ConfigureAwait(false);
            await context.Out.WriteLineAsync().ConfigureAwait(false);
            await context.Out.WriteAsync(VcpuCommands.Table(vcpus)).ConfigureAwait(false);
            await context.Out.WriteLineAsync().ConfigureAwait(false);
            await MemoryMapView.WriteAsync(context, name, parse.GetValue(width), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "List the VMs you may see");
        runner.Bind(command, async (context, _, ct) =>
        {
            var vms = await context.Client.Vms.ListAsync(ct).ToListAsync(ct).ConfigureAwait(false);
            if (context.Json)
            {
                await context.Out.WriteLineAsync(JsonOutput.Array(vms)).ConfigureAwait(false);
                return;
            }

            var table = new Table("NAME", "BACKEND", "TYPE", "VCPUS", "POLICY", "STATE", "OWNER");
            foreach (var v in vms)
            {
                table.Add(v.Name, EnumWords.Kebab(v.Backend), EnumWords.Kebab(v.VmType), v.VcpuCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    EnumWords.Kebab(v.FaultPolicy), EnumWords.Kebab(v.State), v.Owner);
            }

            await context.Out.WriteAsync(table.Render()).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var command = new Command("delete", "Stop a VM's vCPUs and release it with all its memory") { vm };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var name = Client.ResourceNames.Vm(parse.GetValue(vm)!);
            await context.Client.Vms.DeleteAsync(name, ct).ConfigureAwait(false);
            await context.ReportAsync($"deleted {name}", () => new JsonObject { ["deleted"] = name }).ConfigureAwait(false);
        });
        return command;
    }
}
