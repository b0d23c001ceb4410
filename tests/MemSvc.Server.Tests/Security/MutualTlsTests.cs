using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MemSvc.Server.Tests.Security;

/// <summary>TCP beyond loopback: TLS with a client certificate from the configured CA, whose CN names the caller.</summary>
public sealed class MutualTlsTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_call_with_a_client_certificate_works_and_its_VM_belongs_to_the_certificates_CN()
    {
        await using var server = await StartAsync();
        using var channel = TlsChannel(server, _certificates.Client("orchestrator-1"));
        var clients = new Clients(channel);

        var vm = await clients.Vms.CreateVmAsync(new() { VmId = "tls-vm", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct);

        Assert.Equal("cert:orchestrator-1", vm.Vm.Owner);
        var other = new Clients(server.LoopbackChannel());
        await RpcAssert.FailsAsync(() => other.Vms.GetVmAsync(new() { Name = "vms/tls-vm" }, cancellationToken: Ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND");
    }

    [Fact]
    public async Task TLS_without_a_client_certificate_is_refused()
    {
        await using var server = await StartAsync();
        using var channel = TlsChannel(server, null);

        await Assert.ThrowsAsync<RpcException>(() => new Clients(channel).Host.GetHostInfoAsync(new(), cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_refused()
    {
        await using var server = await StartAsync();
        using var channel = TlsChannel(server, _certificates.Client("intruder", selfSigned: true));

        await Assert.ThrowsAsync<RpcException>(() => new Clients(channel).Host.GetHostInfoAsync(new(), cancellationToken: Ct).ResponseAsync);
    }

    [Theory]
    [InlineData(CertificateShape.ServerAuthOnly)]
    [InlineData(CertificateShape.NoExtendedKeyUsage)]
    [InlineData(CertificateShape.IntermediateCa)]
    public async Task A_certificate_from_the_CA_that_is_not_for_client_authentication_is_refused_at_the_handshake(CertificateShape shape)
    {
        await using var server = await StartAsync();
        using var channel = TlsChannel(server, _certificates.Client("orch-2", shape: shape));

        // Under TLS 1.3 the client may send its call before the server's verdict on its certificate arrives, so the
        // call fails UNAVAILABLE or INTERNAL depending on timing; what matters is that it never ran.
        await Assert.ThrowsAsync<RpcException>(() => new Clients(channel).Vms.CreateVmAsync(new() { VmId = "eku-test", VcpuCount = 1, Backend = Backend.Simulated }, cancellationToken: Ct).ResponseAsync);

        using var sameName = TlsChannel(server, _certificates.Client("orch-2"));
        await RpcAssert.FailsAsync(() => new Clients(sameName).Vms.GetVmAsync(new() { Name = "vms/eku-test" }, cancellationToken: Ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND");
    }

    [Fact]
    public async Task The_servers_own_certificate_is_refused_as_a_caller()
    {
        await using var server = await StartAsync();
        using var channel = TlsChannel(server, _certificates.ServerCertificateAsClient());

        await Assert.ThrowsAsync<RpcException>(() => new Clients(channel).Host.GetHostInfoAsync(new(), cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task Plaintext_to_the_TLS_port_is_refused()
    {
        await using var server = await StartAsync();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{TlsPort(server)}");

        await Assert.ThrowsAsync<RpcException>(() => new Clients(channel).Host.GetHostInfoAsync(new(), cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task A_TLS_port_without_its_files_fails_start_up()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => RunningServer.StartAsync(("MemSvc:Tls:Port", "0")));

        Assert.Contains("MemSvc:Tls:ClientCaPath", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _certificates.Dispose();

    private Task<RunningServer> StartAsync() => _certificates.StartServerAsync();

    private static int TlsPort(RunningServer server) => TestCertificates.TlsPort(server);

    private GrpcChannel TlsChannel(RunningServer server, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => _certificates.IsCa(certificate as X509Certificate2);
        if (clientCertificate is not null)
        {
            // Presented whatever its purpose: .NET's own client would skip a certificate not for client
            // authentication, other clients (openssl, grpc-go) send it, and the server must refuse it itself.
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return GrpcChannel.ForAddress($"https://127.0.0.1:{TlsPort(server)}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }
}
