using System.CommandLine;
using System.Globalization;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl host info</c>: the backends, capabilities and limits the server probed.</summary>
internal static class HostCommands
{
    public static Command Build(CommandRunner runner)
    {
        var host = new Command("host", "The host MemSvc runs on");
        var info = new Command("info", "Backends, kernel, capabilities and limits");
        runner.Bind(info, async (context, _, ct) =>
        {
            var response = await context.Client.Host.GetInfoAsync(ct).ConfigureAwait(false);
            await context.Out.WriteAsync(context.Json ? JsonOutput.Format(response) + "\n" : Describe(response)).ConfigureAwait(false);
        });
        host.Subcommands.Add(info);
        return host;
    }

    private static string Describe(GetHostInfoResponse info)
    {
        var text = new Table("field", "value")
            .Add("server version", info.ServerVersion)
            .Add("default backend", EnumWords.Kebab(info.DefaultBackend))
            .Add("resolution timeout", info.DefaultResolutionTimeout?.ToTimeSpan().ToString() ?? "-")
            .Add("journal retention", info.JournalRetention.ToString(CultureInfo.InvariantCulture) + " events")
            .Render();
        foreach (var b in info.Backends)
        {
            var table = new Table("backend " + EnumWords.Kebab(b.Backend), "value")
                .Add("kernel", b.KernelVersion)
                .Add("api version", b.ApiVersion.ToString(CultureInfo.InvariantCulture))
                .Add("vm types", string.Join(",", b.VmTypes.Select(EnumWords.Kebab)))
                .Add("user memory2", b.UserMemory2 ? "yes" : "no")
                .Add("guest_memfd", b.GuestMemfd ? "yes" : "no")
                .Add("guest_memfd flags", string.Join(",", b.GuestMemfdFlags.Select(EnumWords.Kebab)))
                .Add("memory attributes", b.MemoryAttributes.Count == 0 ? "none" : string.Join(",", b.MemoryAttributes.Select(EnumWords.Kebab)))
                .Add("memory fault info", b.MemoryFaultInfo ? "yes" : "no")
                .Add("exit hypercall mask", Units.Hex(b.ExitHypercallMask))
                .Add("max memslots", b.MaxMemslots.ToString(CultureInfo.InvariantCulture))
                .Add("max vcpus", b.MaxVcpus.ToString(CultureInfo.InvariantCulture));
            foreach (var (name, value) in b.Capabilities.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                table.Add(name, value.ToString(CultureInfo.InvariantCulture));
            }

            text += "\n" + table.Render();
        }

        return text;
    }
}
