using System.Globalization;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

// Exit codes follow Docker's HEALTHCHECK contract: 0 healthy, 1 unhealthy. 2 is a usage error.
const int Healthy = 0;
const int Unhealthy = 1;
const int Usage = 2;

string? socketPath = null;
string? address = null;
var service = string.Empty;
var timeout = TimeSpan.FromSeconds(3);

for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--socket" when i + 1 < args.Length:
            socketPath = args[++i];
            break;
        case "--address" when i + 1 < args.Length:
            address = args[++i];
            break;
        case "--service" when i + 1 < args.Length:
            service = args[++i];
            break;
        case "--timeout" when i + 1 < args.Length
            && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
            timeout = TimeSpan.FromSeconds(seconds);
            i++;
            break;
        default:
            Console.Error.WriteLine(
                "usage: memsvc-health-probe [--socket PATH | --address http://127.0.0.1:PORT] [--service NAME] [--timeout SECONDS]\n" +
                "Without --socket or --address: the server's MemSvc__SocketPath (default /run/memsvc/memsvc.sock) when that\n" +
                "socket exists, else 127.0.0.1:$MemSvc__LoopbackPort.");
            return Usage;
    }
}

// The probe runs beside the server with the same environment, so the server's own settings say where it listens.
if (socketPath is null && address is null)
{
    var configuredSocket = Environment.GetEnvironmentVariable("MemSvc__SocketPath") ?? "/run/memsvc/memsvc.sock";
    var loopbackPort = Environment.GetEnvironmentVariable("MemSvc__LoopbackPort");
    if (configuredSocket.Length > 0 && File.Exists(configuredSocket))
    {
        socketPath = configuredSocket;
    }
    else if (!string.IsNullOrEmpty(loopbackPort))
    {
        address = $"http://127.0.0.1:{loopbackPort}";
    }
    else
    {
        Console.Error.WriteLine($"unhealthy: no socket at '{configuredSocket}' and no MemSvc__LoopbackPort");
        return Unhealthy;
    }
}

var handler = new SocketsHttpHandler { ConnectTimeout = timeout };
if (socketPath is not null)
{
    var endpoint = new UnixDomainSocketEndPoint(socketPath);
    handler.ConnectCallback = async (_, cancellationToken) =>
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}

var target = socketPath is not null ? $"unix:{socketPath}" : address!;
using var channel = GrpcChannel.ForAddress(socketPath is not null ? "http://localhost" : address!, new GrpcChannelOptions { HttpHandler = handler });
try
{
    var response = await new Health.HealthClient(channel)
        .CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow + timeout)
        .ConfigureAwait(false);
    if (response.Status == HealthCheckResponse.Types.ServingStatus.Serving)
    {
        Console.WriteLine($"healthy: {target} is SERVING");
        return Healthy;
    }

    Console.Error.WriteLine($"unhealthy: {target} is {response.Status}");
    return Unhealthy;
}
catch (RpcException e)
{
    Console.Error.WriteLine($"unhealthy: {target}: {e.StatusCode} {e.Status.Detail}");
    return Unhealthy;
}
