using System.Net.Sockets;
using Grpc.Core;
using MemSvc.Cli.Infrastructure;
using MemSvc.Client.Errors;

namespace MemSvc.Cli.Output;

/// <summary>
/// What to say when no server answers: where memsvcctl looked and why that found nobody, and how to start a
/// server or point at a running one. The transport's own words (an HttpRequestException about localhost:80 for a
/// missing socket file) tell an operator nothing.
/// </summary>
internal static class NoServerText
{
    public const string Hint =
        "hint: start a server (`dotnet run --project src/MemSvc.Server` in a MemSvc checkout, or `docker compose up -d` there: see its README),\n" +
        "      or name a running one with --socket PATH or --address URL (env MEMSVC_SOCKET / MEMSVC_ADDRESS)";

    public static string Describe(CliContext context, MemSvcException error)
    {
        var options = context.ClientOptions;
        var why = options.Address is null ? SocketProblem(options.SocketPath!, error) : AddressProblem(error);
        var text = $"error: no MemSvc server answered at {context.Endpoint} ({context.EndpointSource}): {why}";
        if (context.SocketCandidates is { Count: > 1 } candidates)
        {
            text += $"\n  looked for a socket at: {string.Join(", ", candidates)}";
        }

        return $"{text}\n{Hint}";
    }

    private static string SocketProblem(string path, MemSvcException error) =>
        !File.Exists(path) ? "there is no socket file at that path"
        : ErrorCodeOf(error) switch
        {
            SocketError.ConnectionRefused => "the socket file exists but nothing listens on it (a server that stopped?)",
            SocketError.AccessDenied => "permission denied on the socket (join the server's socket group: deploy/README.md)",
            _ => error.Detail,
        };

    private static string AddressProblem(MemSvcException error) => ErrorCodeOf(error) switch
    {
        SocketError.ConnectionRefused => "connection refused (nothing listens on that port)",
        SocketError.HostNotFound or SocketError.TryAgain => "the host name does not resolve",
        SocketError.TimedOut => "the connection timed out",
        _ => error.Detail,
    };

    // The transport's error sits under the RpcException, in the status's debug exception.
    private static SocketError? ErrorCodeOf(Exception error)
    {
        for (Exception? e = error; e is not null; e = e is RpcException rpc ? rpc.Status.DebugException ?? rpc.InnerException : e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }
}
