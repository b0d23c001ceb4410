using System.CommandLine;

namespace MemSvc.Cli.Infrastructure;

/// <summary>Options every command takes (recursive on the root command).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Socket { get; } = new("--socket")
    {
        Description = "Unix domain socket of MemSvc (env MEMSVC_SOCKET; default /run/memsvc/memsvc.sock, or the server's fallback under $XDG_RUNTIME_DIR or /tmp)",
        HelpName = "PATH",
        Recursive = true,
    };

    // A string, parsed like MEMSVC_ADDRESS: System.CommandLine has no converter for Uri.
    public Option<string?> Address { get; } = new("--address")
    {
        Description = "http:// (loopback h2c) or https:// address of MemSvc instead of the socket (env MEMSVC_ADDRESS)",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<OutputFormat> Output { get; } = new("--output", "-o")
    {
        Description = "Output format",
        DefaultValueFactory = _ => OutputFormat.Table,
        Recursive = true,
    };

    public Option<ColorMode> Color { get; } = new("--color")
    {
        Description = "ANSI colours",
        DefaultValueFactory = _ => ColorMode.Auto,
        Recursive = true,
    };

    public Option<double> Deadline { get; } = new("--deadline")
    {
        Description = "Deadline of each call attempt, in seconds",
        DefaultValueFactory = _ => 30,
        HelpName = "SECONDS",
        Recursive = true,
    };

    public Option<string?> ClientCertificate { get; } = new("--client-cert")
    {
        Description = "PEM client certificate for an https address (mTLS)",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string?> ClientKey { get; } = new("--client-key")
    {
        Description = "PEM private key of --client-cert, when the certificate file lacks it",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<string?> CaCertificate { get; } = new("--ca-cert")
    {
        Description = "PEM CA certificate that signs the server's certificate",
        HelpName = "FILE",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Socket, Address, Output, Color, Deadline, ClientCertificate, ClientKey, CaCertificate];
}
