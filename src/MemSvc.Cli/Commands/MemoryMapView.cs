using System.Text.Json.Nodes;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Client;

namespace MemSvc.Cli.Commands;

/// <summary>Fetches a VM's memslots and their attributes, and draws them (vm get, attr get, demo).</summary>
internal static class MemoryMapView
{
    public static async Task<IReadOnlyList<MemoryMap.Slot>> LoadAsync(MemSvcClient client, string vm, CancellationToken cancellationToken)
    {
        var slots = new List<MemoryMap.Slot>();
        await foreach (var region in client.Memory.ListMemoryRegionsAsync(vm, cancellationToken).ConfigureAwait(false))
        {
            var ranges = await client.Memory.GetMemoryAttributesAsync(vm, region.Gpa, region.Size, cancellationToken).ConfigureAwait(false);
            slots.Add(new MemoryMap.Slot(region, ranges));
        }

        return slots;
    }

    /// <summary>
    /// The map as -o json gives it: every memslot with the attribute runs that cover it; the picture's holes
    /// (between memslots) and unbacked cells (backing_revoked) follow from them.
    /// </summary>
    public static JsonObject Json(string vm, IReadOnlyList<MemoryMap.Slot> slots) => new()
    {
        ["vm"] = ResourceNames.Vm(vm),
        ["memslots"] = new JsonArray([.. slots.OrderBy(s => s.Region.Gpa).Select(s => (JsonNode)new JsonObject
        {
            ["memoryRegion"] = JsonOutput.Node(s.Region),
            ["ranges"] = JsonOutput.Nodes(s.Ranges),
        })]),
    };

    public static async Task WriteAsync(CliContext context, string vm, int width, CancellationToken cancellationToken)
    {
        var slots = await LoadAsync(context.Client, vm, cancellationToken).ConfigureAwait(false);
        await context.Out.WriteAsync(MemoryMap.Render(ResourceNames.Vm(vm), slots, width, context.Color)).ConfigureAwait(false);
    }
}
