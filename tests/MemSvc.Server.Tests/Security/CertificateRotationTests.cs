using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Security;

/// <summary>
/// Certificate files replaced under a running server (cert-manager renewing its Secret): new handshakes get the new
/// certificate, with no restart, and a stream opened before keeps running on the connection it was made on.
/// </summary>
public sealed class CertificateRotationTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rotated_certificate_is_served_to_new_connections_and_open_streams_keep_running()
    {
        await using var server = await _certificates.StartServerAsync();
        var before = Connect(server);
        var clients = new Clients(before.Channel);
        await clients.Vms.CreateVmAsync(new() { VmId = "rot", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);
        await using var watcher = Watcher.Start(clients, "vms/rot", filter: new EventFilter { Kinds = { EventKind.GuestReport } });
        Assert.Equal("CN=memsvc", before.Presented());

        _certificates.WriteServerCertificate("memsvc-rotated", 2);

        // The server looks at the files at most once a second: new connections until one presents the new certificate.
        string? presented = null;
        for (var attempt = 0; attempt < 100 && presented != "CN=memsvc-rotated"; attempt++)
        {
            await Task.Delay(100, Ct);
            var fresh = Connect(server);
            await new Clients(fresh.Channel).Host.GetHostInfoAsync(new(), cancellationToken: Ct);
            presented = fresh.Presented();
            fresh.Channel.Dispose();
        }

        Assert.Equal("CN=memsvc-rotated", presented);

        // The stream opened before the rotation still delivers, on the connection made with the old certificate.
        await Waits.RunToHaltAsync(clients, "vms/rot", Steps.Program(Steps.Report(42), Steps.Halt()));
        Assert.Equal(42U, (await watcher.NextAsync()).GuestReport.Value);
        Assert.Equal("CN=memsvc", before.Presented());
        before.Channel.Dispose();
    }

    public void Dispose() => _certificates.Dispose();

    private (GrpcChannel Channel, Func<string?> Presented) Connect(RunningServer server)
    {
        string? subject = null;
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [_certificates.Client("orchestrator-1")];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            subject = (certificate as X509Certificate2)?.Subject;
            return _certificates.IsCa(certificate as X509Certificate2);
        };
        var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{TestCertificates.TlsPort(server)}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return (channel, () => subject);
    }
}
