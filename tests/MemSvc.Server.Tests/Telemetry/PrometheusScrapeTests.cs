using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Telemetry;

/// <summary>MemSvc:Telemetry:PrometheusPort: the scrape after a fault flow, and nothing of it when not configured.</summary>
public sealed partial class PrometheusScrapeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_a_scrape_port_a_scrape_after_a_fault_shows_the_faults_counter_with_vm_and_direction_labels()
    {
        var port = FreePorts.Next();
        await using var server = await RunningServer.StartAsync(("MemSvc:Telemetry:PrometheusPort", port.ToString(CultureInfo.InvariantCulture)));
        var clients = new Clients(server.LoopbackChannel());
        var vmId = "prom-" + Guid.NewGuid().ToString("N")[..12];
        var vm = await Scenario.VmWithMemoryAsync(clients, vmId);
        await Waits.RunToHaltAsync(clients, vm.Name, Program(Write(0, 7, AccessIntent.Private), Halt()));
        using var http = new HttpClient();

        using var scrape = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"), Ct);
        var text = await scrape.Content.ReadAsStringAsync(Ct);
        using var elsewhere = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/memsvc.v1.HostService/GetHostInfo"), Ct);
        var onGrpcPort = await Http2GetAsync(new Uri(server.Loopback, "/metrics"));

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        var faults = Samples(text, "memsvc_core_faults_total").Where(s => s.Labels.GetValueOrDefault("vm") == vmId).ToList();
        var sample = Assert.Single(faults);
        Assert.Equal(("private", "1"), (sample.Labels["direction"], sample.Value));
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, onGrpcPort);
    }

    [Fact]
    public async Task Without_a_scrape_port_no_listener_is_added_and_the_scrape_path_is_not_found()
    {
        await using var server = await RunningServer.StartAsync();

        var addresses = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var status = await Http2GetAsync(new Uri(server.Loopback, "/metrics"));

        Assert.Equal([server.Loopback.ToString().TrimEnd('/'), $"http://unix:{server.SocketPath}"], addresses.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Theory]
    [InlineData("0", "MemSvc:Telemetry:PrometheusPort must be 1 to 65535, not 0.")]
    [InlineData("50052", "MemSvc:Telemetry:PrometheusPort must differ from MemSvc:HealthPort and MemSvc:LoopbackPort, not 50052.")]
    public async Task A_scrape_port_out_of_range_or_on_the_health_port_fails_start_up(string port, string failure)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningServer.StartAsync(("MemSvc:HealthPort", "50052"), ("MemSvc:Telemetry:PrometheusPort", port)));

        Assert.Equal([failure], error.Failures);
    }

    // The gRPC listeners speak HTTP/2 only, without TLS: ask with prior knowledge.
    private static async Task<HttpStatusCode> Http2GetAsync(Uri uri)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }

    // The samples of one metric in Prometheus's text format: name{label="value",...} value [timestamp].
    private static IEnumerable<(Dictionary<string, string> Labels, string Value)> Samples(string exposition, string metric) =>
        from line in exposition.Split('\n')
        let match = SampleLine().Match(line)
        where match.Success && match.Groups["name"].Value == metric
        select (LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value, StringComparer.Ordinal), match.Groups["value"].Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>.*)\} (?<value>\S+)( \S+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
