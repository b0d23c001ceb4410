namespace MemSvc.Server.Hosting;

/// <summary>
/// The server cannot start for a reason its operator must fix (another server on the socket, a backend that is not
/// there): Program reports it in one line and exits with <see cref="StartupExit.ListenerUnavailable"/> or
/// <see cref="StartupExit.Configuration"/> instead of letting it abort the runtime (exit 134, a core dump).
/// </summary>
internal sealed class StartupRefusedException(string message, int exitCode) : InvalidOperationException(message)
{
    public int ExitCode { get; } = exitCode;
}
