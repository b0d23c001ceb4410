using MemSvc.Contracts.V1;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Testing;
using Microsoft.Extensions.Options;

namespace MemSvc.Client.Tests.Testing;

/// <summary>MemSvc.Testing's in-process server: the profile it is told, its socket and address, and its cleanup.</summary>
public sealed class MemSvcTestServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void The_profile_names_are_the_simulated_backends()
    {
        Assert.Equal(SimulatedHostProfile.Names, HostProfiles.All);
    }

    [Fact]
    public async Task A_server_is_the_host_profile_it_was_given_on_its_socket_and_its_address_and_leaves_nothing_behind()
    {
        var memsvc = await MemSvcTestServer.StartAsync(o => o.HostProfile = HostProfiles.Kvm72Debian, Ct);
        var directory = Path.GetDirectoryName(memsvc.SocketPath)!;
        var overSocket = memsvc.CreateClient();
        using var overLoopback = MemSvcClient.ForAddress(memsvc.Address);

        var fromSocket = Assert.Single((await overSocket.Host.GetInfoAsync(Ct)).Backends);
        var fromLoopback = Assert.Single((await overLoopback.Host.GetInfoAsync(Ct)).Backends);
        Assert.Equal(
            ("simulated (kvm-7.2-debian", Backend.Simulated, "http", "127.0.0.1"),
            (fromSocket.KernelVersion[..25], fromSocket.Backend, memsvc.Address.Scheme, memsvc.Address.Host));
        Assert.Equal(fromSocket.KernelVersion, fromLoopback.KernelVersion);

        await memsvc.DisposeAsync();

        Assert.False(Directory.Exists(directory), $"{directory} is still there");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => overSocket.Host.GetInfoAsync(Ct));
    }

    [Fact]
    public async Task An_unknown_profile_fails_the_start_naming_the_known_ones()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => MemSvcTestServer.StartAsync(o => o.HostProfile = "kvm-9.9", Ct));

        Assert.Contains($"MemSvc:Simulated:HostProfile must be one of {string.Join(", ", SimulatedHostProfile.Names)}, not 'kvm-9.9'.", error.Message, StringComparison.Ordinal);
    }
}
