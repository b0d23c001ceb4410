using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Hosting;

/// <summary>
/// How a start-up that cannot succeed ends the process: a clear line on stderr and a sysexits code, never an
/// unhandled exception (SIGABRT, exit 134, a stack trace and a core dump, and a restart loop under systemd's
/// Restart=on-failure unless the unit names these codes in RestartPreventExitStatus).
/// </summary>
public static class StartupExit
{
    /// <summary>EX_CONFIG: the configuration was refused (MemSvc options, a backend that is not available).</summary>
    public const int Configuration = 78;

    /// <summary>EX_CANTCREAT: a listener could not be created (another server on the socket, a port in use).</summary>
    public const int ListenerUnavailable = 73;

    /// <summary>EX_UNAVAILABLE: MemSvc:Handoff:TakeOver found no server to take over from, or it refused; that one serves on.</summary>
    public const int HandoffRefused = 69;

    /// <summary>Runs the server; returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var app = MemSvcServer.Build(args);
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (CodeOf(e) is { } code)
        {
            await Console.Error.WriteLineAsync($"memsvc: cannot start: {MessageOf(e)}").ConfigureAwait(false);
            return code;
        }
    }

    /// <summary>The exit code for a start-up failure the operator must fix; null for anything else (a bug: it stays unhandled).</summary>
    internal static int? CodeOf(Exception e) => e switch
    {
        StartupRefusedException refused => refused.ExitCode,
        OptionsValidationException => Configuration,
        IOException { InnerException: AddressInUseException } => ListenerUnavailable,
        AggregateException { InnerExceptions.Count: 1 } aggregate => CodeOf(aggregate.InnerExceptions[0]),
        _ => null,
    };

    private static string MessageOf(Exception e) => e switch
    {
        OptionsValidationException options => string.Join(" ", options.Failures),
        AggregateException { InnerExceptions.Count: 1 } aggregate => MessageOf(aggregate.InnerExceptions[0]),
        _ => e.Message,
    };
}
