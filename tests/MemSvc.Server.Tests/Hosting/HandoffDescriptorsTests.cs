using System.Net.Sockets;
using System.Runtime.InteropServices;
using MemSvc.Server.Handoff;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// The descriptors frames of a handoff over a real Unix socket (no KVM needed): more descriptors than one message
/// may carry arrive in several frames, all of them, in order, each a descriptor of the same open file.
/// </summary>
public sealed class HandoffDescriptorsTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("memsvc-fds-");

    [Fact]
    public async Task Six_hundred_descriptors_arrive_in_frames_of_at_most_250_in_order_and_name_the_same_files()
    {
        var files = Enumerable.Range(0, 600).Select(i => Path.Combine(_directory.FullName, $"f{i}")).ToList();
        var handles = files.Select(f => (SafeHandle)File.OpenHandle(f, FileMode.CreateNew, FileAccess.ReadWrite)).ToList();
        var timeout = TimeSpan.FromSeconds(30);
        try
        {
            var (client, server) = await ConnectedPairAsync();
            using var clientEnd = client;
            using var serverEnd = server;

            var sending = Task.Run(() => HandoffDescriptors.Send(server, handles, timeout), TestContext.Current.CancellationToken);
            var received = HandoffDescriptors.Receive(client, timeout);
            await sending;

            Assert.Equal(600, received.Count);
            for (var i = 0; i < received.Count; i += 97)
            {
                using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(received[i].DangerousGetHandle(), ownsHandle: false), FileAccess.Write);
                stream.Write([(byte)i]);
                stream.Flush();
                Assert.Equal([(byte)i], File.ReadAllBytes(files[i]));
            }

            foreach (var descriptor in received)
            {
                descriptor.Dispose();
            }
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.Dispose();
            }
        }
    }

    [Fact]
    public async Task No_descriptors_still_make_one_last_frame()
    {
        var (client, server) = await ConnectedPairAsync();
        using var clientEnd = client;
        using var serverEnd = server;

        HandoffDescriptors.Send(server, [], TimeSpan.FromSeconds(30));

        Assert.Empty(HandoffDescriptors.Receive(client, TimeSpan.FromSeconds(30)));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // Two connected ends of a Unix stream socket, as the handoff's are.
    private async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        var path = Path.Combine(_directory.FullName, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            client.Connect(new UnixDomainSocketEndPoint(path));
            return (client, await listener.AcceptAsync(TestContext.Current.CancellationToken));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
