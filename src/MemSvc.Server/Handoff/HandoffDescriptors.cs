using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Handoff;

namespace MemSvc.Server.Handoff;

/// <summary>
/// The <see cref="HandoffFrameType.Descriptors"/> frames: the descriptors a handoff's state indexes (the memfds and
/// guest_memfds behind kvm VMs' memory), at most <see cref="DescriptorPassing.MaxPerMessage"/> per frame, each frame
/// an ordinary frame whose first byte carries them. Always at least one frame, the last one marked, so the new process
/// knows when it has them all.
/// </summary>
internal static class HandoffDescriptors
{
    private const int FrameSize = 9 + 5;

    /// <summary>
    /// One frame with a descriptor and one without, sent and received over a connected pair of sockets of this
    /// process (an abstract address: nothing on disk), so that a real handoff's first sendmsg and recvmsg are not
    /// also the first call of their P/Invokes: cold, the descriptor frames took 5-16 ms of the vCPUs' pause.
    /// </summary>
    public static void Rehearse()
    {
        var address = new UnixDomainSocketEndPoint($"\0memsvc-handoff-rehearsal-{Environment.ProcessId}-{Guid.NewGuid():N}");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(address);
        listener.Listen(1);
        using var sender = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        sender.Connect(address);
        using var receiver = listener.Accept();
        var timeout = TimeSpan.FromSeconds(5);
        foreach (var passed in new SafeHandle[][] { [sender.SafeHandle], [] })
        {
            Send(sender, passed, timeout);
            foreach (var descriptor in Receive(receiver, timeout))
            {
                descriptor.Dispose();
            }
        }
    }

    public static void Send(Socket socket, IReadOnlyList<SafeHandle> descriptors, TimeSpan timeout)
    {
        var sent = 0;
        do
        {
            var chunk = descriptors.Skip(sent).Take(DescriptorPassing.MaxPerMessage).ToList();
            sent += chunk.Count;
            var frame = new byte[FrameSize];
            frame[0] = (byte)HandoffFrameType.Descriptors;
            BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(1), 5);
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(9), chunk.Count);
            frame[13] = sent == descriptors.Count ? (byte)1 : (byte)0;
            DescriptorPassing.Send(socket.SafeHandle, frame, chunk, timeout);
        }
        while (sent < descriptors.Count);
    }

    /// <summary>Every descriptor the old process passed, in order (the caller closes them); <see cref="InvalidDataException"/> for frames that do not add up.</summary>
    public static IReadOnlyList<SafeHandle> Receive(Socket socket, TimeSpan timeout)
    {
        var all = new List<SafeHandle>();
        try
        {
            while (true)
            {
                var frame = new byte[FrameSize];
                var passed = DescriptorPassing.Receive(socket.SafeHandle, frame, timeout);
                all.AddRange(passed);
                var count = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(9));
                if (frame[0] != (byte)HandoffFrameType.Descriptors || BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(1)) != 5 || count != passed.Count)
                {
                    throw new InvalidDataException($"expected a descriptors frame with its descriptors, got type 0x{frame[0]:x2} saying {count}, with {passed.Count}");
                }

                if (frame[13] == 1)
                {
                    return all;
                }
            }
        }
        catch
        {
            foreach (var descriptor in all)
            {
                descriptor.Dispose();
            }

            throw;
        }
    }
}
