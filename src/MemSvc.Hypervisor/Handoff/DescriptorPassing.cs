using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MemSvc.Hypervisor.Kvm;

namespace MemSvc.Hypervisor.Handoff;

/// <summary>
/// File descriptors over a connected Unix stream socket (SCM_RIGHTS), as QEMU's cpr-transfer passes guest memory:
/// the receiving process gets its own descriptors of the same open files. Here because the kvm backend is what has
/// files to pass and owns the libc interop; failures are <see cref="IOException"/>s that name the errno.
/// </summary>
public static class DescriptorPassing
{
    /// <summary>At most this many descriptors ride one message (the kernel's SCM_MAX_FD is 253).</summary>
    public const int MaxPerMessage = 250;

    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int CmsgHeader = 16;

    /// <summary>Sends all of <paramref name="bytes"/>, with <paramref name="descriptors"/> attached to their first byte.</summary>
    public static unsafe void Send(SafeHandle socket, ReadOnlySpan<byte> bytes, IReadOnlyList<SafeHandle> descriptors, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(descriptors);
        if (descriptors.Count > MaxPerMessage || bytes.IsEmpty)
        {
            throw new ArgumentException($"1 byte or more, and at most {MaxPerMessage} descriptors, per message", nameof(descriptors));
        }

        var control = new byte[Space(descriptors.Count)];
        var referenced = new List<SafeHandle>(descriptors.Count);
        try
        {
            if (descriptors.Count > 0)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(control, (ulong)(CmsgHeader + (4 * descriptors.Count)));
                BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(8), LibC.SOL_SOCKET);
                BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(12), LibC.SCM_RIGHTS);
                for (var i = 0; i < descriptors.Count; i++)
                {
                    // The reference keeps each number from being closed and reused until the kernel has taken it.
                    var added = false;
                    descriptors[i].DangerousAddRef(ref added);
                    referenced.Add(descriptors[i]);
                    BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(CmsgHeader + (4 * i)), (int)descriptors[i].DangerousGetHandle());
                }
            }

            var sent = 0;
            while (sent < bytes.Length)
            {
                nint result;

                // Sound: the iovec and the control buffer point into pinned spans that outlive the call, and their
                // lengths are those of the spans; the kernel reads nothing else.
                fixed (byte* data = bytes, cmsg = control)
                {
                    var iov = new LibC.IoVector { Base = (nint)(data + sent), Length = (nuint)(bytes.Length - sent) };
                    var header = new LibC.MessageHeader { Iov = (nint)(&iov), IovLength = 1 };
                    if (sent == 0 && descriptors.Count > 0)
                    {
                        header.Control = (nint)cmsg;
                        header.ControlLength = (nuint)control.Length;
                    }

                    result = LibC.Sendmsg(socket, &header, LibC.MSG_NOSIGNAL);
                }

                if (result >= 0)
                {
                    sent += (int)result;
                    continue;
                }

                Retry(socket, LibC.POLLOUT, timeout, "sendmsg");
            }
        }
        finally
        {
            foreach (var descriptor in referenced)
            {
                descriptor.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> and returns the descriptors that came with its bytes (the caller owns them);
    /// <see cref="EndOfStreamException"/> when the peer closed first.
    /// </summary>
    public static unsafe IReadOnlyList<SafeHandle> Receive(SafeHandle socket, Span<byte> buffer, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var received = new List<SafeHandle>();
        var control = new byte[Space(MaxPerMessage + 3)];
        var filled = 0;
        try
        {
            while (filled < buffer.Length)
            {
                nint result;
                int flags, controlLength;

                // Sound: as in Send, the iovec and the control buffer point into pinned spans of the lengths given.
                fixed (byte* data = buffer, cmsg = control)
                {
                    var iov = new LibC.IoVector { Base = (nint)(data + filled), Length = (nuint)(buffer.Length - filled) };
                    var header = new LibC.MessageHeader { Iov = (nint)(&iov), IovLength = 1, Control = (nint)cmsg, ControlLength = (nuint)control.Length };
                    result = LibC.Recvmsg(socket, &header, LibC.MSG_CMSG_CLOEXEC);
                    flags = header.Flags;
                    controlLength = (int)header.ControlLength;
                }

                if (result < 0)
                {
                    Retry(socket, LibC.POLLIN, timeout, "recvmsg");
                    continue;
                }

                // Whatever descriptors arrived are owned from here on, even when what follows fails.
                Collect(control.AsSpan(0, Math.Min(controlLength, control.Length)), received);
                if (result == 0)
                {
                    throw new EndOfStreamException($"the peer closed the socket after {filled} of {buffer.Length} bytes");
                }

                if ((flags & LibC.MSG_CTRUNC) != 0)
                {
                    throw new IOException("descriptors were dropped (MSG_CTRUNC): more came than one message may carry");
                }

                filled += (int)result;
            }

            return received;
        }
        catch
        {
            foreach (var descriptor in received)
            {
                descriptor.Dispose();
            }

            throw;
        }
    }

    // CMSG_SPACE(4 * count): the header and the ints, aligned to 8.
    private static int Space(int count) => CmsgHeader + (((4 * count) + 7) & ~7);

    private static void Collect(ReadOnlySpan<byte> control, List<SafeHandle> into)
    {
        var offset = 0;
        while (offset + CmsgHeader <= control.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(control[offset..]);
            if (length < CmsgHeader || offset + length > control.Length)
            {
                break;
            }

            if (BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 8)..]) == LibC.SOL_SOCKET && BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 12)..]) == LibC.SCM_RIGHTS)
            {
                for (var at = offset + CmsgHeader; at + 4 <= offset + length; at += 4)
                {
                    into.Add(new FileDescriptor(BinaryPrimitives.ReadInt32LittleEndian(control[at..])));
                }
            }

            offset += (length + 7) & ~7;
        }
    }

    // After a failed sendmsg or recvmsg: EINTR retries at once; EAGAIN (a non-blocking socket) waits until the
    // socket is ready, at most the timeout; any other errno is the caller's failure.
    private static unsafe void Retry(SafeHandle socket, short events, TimeSpan timeout, string operation)
    {
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EINTR)
        {
            return;
        }

        if (errno != EAGAIN)
        {
            throw new IOException($"{operation} failed: {KvmErrors.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})");
        }

        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            var poll = new LibC.PollFd { Fd = (int)socket.DangerousGetHandle(), Events = events };

            // Sound: one pollfd on this frame, for the duration of the call.
            var ready = LibC.Poll(&poll, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
            if (ready == 0)
            {
                throw new IOException($"{operation}: the peer was not ready within {timeout.TotalSeconds} s");
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }
}
