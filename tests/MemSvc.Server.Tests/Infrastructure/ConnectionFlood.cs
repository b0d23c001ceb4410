using System.Net;
using System.Net.Sockets;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// Idle HTTP/2 connections held open, as the probe's flood made them: connect, send the client preface and an empty
/// SETTINGS frame, then say nothing more. Connections the server refuses or closes are counted, never retried.
/// </summary>
public sealed class ConnectionFlood : IDisposable
{
    /// <summary>"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" and an empty SETTINGS frame.</summary>
    public static readonly byte[] Preface =
    [
        .. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8,
        0, 0, 0, 4, 0, 0, 0, 0, 0,
    ];

    private readonly List<Socket> _sockets = [];

    /// <summary>Connections that connected and took the preface.</summary>
    public int Opened => _sockets.Count;

    /// <summary>Connections the kernel or the server refused before the preface was sent.</summary>
    public int Refused { get; private set; }

    /// <summary>Opens <paramref name="count"/> connections to <paramref name="endPoint"/>, one after another, within <paramref name="patience"/>.</summary>
    public async Task OpenAsync(EndPoint endPoint, int count, TimeSpan patience)
    {
        using var time = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        time.CancelAfter(patience);
        for (var i = 0; i < count && !time.IsCancellationRequested; i++)
        {
            var socket = endPoint is UnixDomainSocketEndPoint
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endPoint, time.Token);
                await socket.SendAsync(Preface, time.Token);
                _sockets.Add(socket);
            }
            catch (SocketException)
            {
                Refused++;
                socket.Dispose();
            }
            catch (OperationCanceledException) when (time.IsCancellationRequested && !TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                // Out of patience: the flood is as big as it got.
                socket.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        _sockets.Clear();
    }
}
