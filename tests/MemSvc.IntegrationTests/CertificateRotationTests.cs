using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;
using static MemSvc.IntegrationTests.Infrastructure.MemSvcClients;

namespace MemSvc.IntegrationTests;

/// <summary>
/// The image's mTLS listener with its certificate files in a mounted folder, as the Kubernetes mtls component mounts
/// its Secret: files renewed under the running container are served to new connections without a restart, and a
/// stream opened before keeps delivering on its connection.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class CertificateRotationTests(DockerFixture docker)
{
    private const string TlsFolder = "/etc/memsvc/tls";

    [Fact(Timeout = 300_000)]
    public async Task Certificate_files_renewed_under_a_running_container_are_served_to_new_connections_and_an_open_stream_keeps_running()
    {
        docker.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        using var tls = new TlsFiles();
        var tlsPort = MemSvcContainer.FreeLoopbackPort();
        await using var memsvc = await MemSvcContainer.StartAsync(
            docker.Image,
            environment: new Dictionary<string, string>
            {
                ["MemSvc__Tls__Port"] = tlsPort.ToString(CultureInfo.InvariantCulture),
                ["MemSvc__Tls__CertificatePath"] = TlsFolder + "/tls.crt",
                ["MemSvc__Tls__KeyPath"] = TlsFolder + "/tls.key",
                ["MemSvc__Tls__ClientCaPath"] = TlsFolder + "/ca.crt",
            },
            readOnlyMounts: new Dictionary<string, string> { [tls.Directory] = TlsFolder });
        var (before, presentedBefore) = Connect(tls, tlsPort);
        var api = new MemSvcClients(before);
        await api.Vms.CreateVmAsync(new CreateVmRequest { VmId = "rotation", Backend = Backend.Simulated, VcpuCount = 1 }, cancellationToken: ct);
        await using var watcher = new EventStream(api.Events, "vms/rotation", startSequence: 1);
        Assert.Equal("CN=memsvc", presentedBefore());

        tls.WriteServerCertificate("memsvc-renewed");

        // The server looks at its files at most once a second, when a handshake comes.
        string? presented = null;
        for (var attempt = 0; attempt < 100 && presented != "CN=memsvc-renewed"; attempt++)
        {
            await Task.Delay(100, ct);
            var (fresh, presentedFresh) = Connect(tls, tlsPort);
            using (fresh)
            {
                await new MemSvcClients(fresh).Host.GetHostInfoAsync(new GetHostInfoRequest(), cancellationToken: ct);
                presented = presentedFresh();
            }
        }

        Assert.Equal("CN=memsvc-renewed", presented);
        await api.Vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = "vms/rotation/vcpus/0", Program = Program(Report(42), Halt()) }, cancellationToken: ct);
        await api.Vcpus.StartVcpuAsync(new StartVcpuRequest { Name = "vms/rotation/vcpus/0" }, cancellationToken: ct);
        Event report;
        do
        {
            report = await watcher.NextAsync(TimeSpan.FromSeconds(30), "the guest's report after the renewal");
        }
        while (report.GuestReport is null);

        Assert.Equal((42U, 0), (report.GuestReport.Value, watcher.Reconnects));
        Assert.Equal("CN=memsvc", presentedBefore());
        Assert.Contains("TLS certificate files changed: new handshakes use CN=memsvc-renewed", await memsvc.LogsAsync(), StringComparison.Ordinal);
        before.Dispose();
    }

    private static (GrpcChannel Channel, Func<string?> Presented) Connect(TlsFiles tls, int port)
    {
        string? subject = null;
        var client = tls.Client("orchestrator-1");
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [client];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            subject = (certificate as X509Certificate2)?.Subject;
            return tls.IsIssuedByCa(certificate);
        };
        var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return (channel, () => subject);
    }
}
