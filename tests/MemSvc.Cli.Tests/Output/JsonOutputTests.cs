using System.Text.Json;
using MemSvc.Cli.Tests.Infrastructure;
using MemSvc.Testing;

namespace MemSvc.Cli.Tests.Output;

/// <summary>-o json carries everything the table shows, and an action says what it did as one JSON object.</summary>
public sealed class JsonOutputTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await Ok("vm", "create", "--id", "js", "--backend", "simulated", "--type", "sw-protected", "--vcpus", "2");
        await Ok("gmem", "create", "js", "--size", "64M");
        await Ok("region", "set", "js", "--slot", "0", "--gpa", "0", "--size", "32M", "--gmem", "1");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Vm_get_has_the_vm_its_vcpus_and_its_memory_map()
    {
        await Ok("attr", "set", "js", "--gpa", "0", "--size", "16M", "--private");

        using var json = await Json("vm", "get", "js", "-o", "json");
        var root = json.RootElement;

        Assert.Equal("vms/js", root.GetProperty("vm").GetProperty("name").GetString());
        Assert.Equal("FAULT_POLICY_AUTO", root.GetProperty("vm").GetProperty("faultPolicy").GetString());
        Assert.Equal([0u, 1u], root.GetProperty("vcpus").EnumerateArray().Select(v => v.GetProperty("index").GetUInt32()));
        var map = root.GetProperty("memoryMap");
        Assert.Equal("vms/js", map.GetProperty("vm").GetString());
        var slot = Assert.Single(map.GetProperty("memslots").EnumerateArray());
        Assert.Equal("33554432", slot.GetProperty("memoryRegion").GetProperty("size").GetString());
        Assert.Equal(
            [("0", "16777216", "MEMORY_ATTRIBUTE_PRIVATE"), ("16777216", "16777216", "")],
            slot.GetProperty("ranges").EnumerateArray().Select(r => (
                r.GetProperty("gpa").GetString(),
                r.GetProperty("size").GetString(),
                string.Join(',', r.GetProperty("attributes").EnumerateArray().Select(a => a.GetString())))));
    }

    [Fact]
    public async Task Attr_get_of_the_whole_map_is_the_same_object_as_in_vm_get()
    {
        using var map = await Json("attr", "get", "js", "-o", "json");
        using var vm = await Json("vm", "get", "js", "-o", "json");

        Assert.Equal(JsonSerializer.Serialize(vm.RootElement.GetProperty("memoryMap")), JsonSerializer.Serialize(map.RootElement));
    }

    [Fact]
    public async Task Actions_report_what_they_did()
    {
        using var set = await Json("attr", "set", "js", "--gpa", "0", "--size", "4K", "--private", "-o", "json");
        Assert.Equal(
            """{"vm":"vms/js","gpa":"0","size":"4096","attributes":["MEMORY_ATTRIBUTE_PRIVATE"]}""",
            JsonSerializer.Serialize(set.RootElement));

        using var converted = await Json("convert", "js", "--gpa", "4K", "--size", "4K", "--to", "private", "-o", "json");
        Assert.Equal(
            """{"vm":"vms/js","gpa":"4096","size":"4096","target":"MEMORY_VISIBILITY_PRIVATE","eventSequence":"1"}""",
            JsonSerializer.Serialize(converted.RootElement));

        using var discarded = await Json("gmem", "discard", "js", "1", "--offset", "0x1000", "--size", "8K", "-o", "json");
        Assert.Equal("""{"discarded":"vms/js/guestMemfds/1","offset":"4096","size":"8192"}""", JsonSerializer.Serialize(discarded.RootElement));

        using var deleted = await Json("vm", "delete", "js", "-o", "json");
        Assert.Equal("""{"deleted":"vms/js"}""", JsonSerializer.Serialize(deleted.RootElement));
    }

    private Task<CliResult> Ok(params string[] args) => Ctl.OkAsync(_server, args);

    private async Task<JsonDocument> Json(params string[] args) => JsonDocument.Parse((await Ok(args)).Out);
}
