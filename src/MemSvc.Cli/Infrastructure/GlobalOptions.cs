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

    public WordOption<OutputFormat> Output { get; } = Recursive(
        CliArgs.Word("--output", "table for people; json for scripts (the protobuf JSON mapping: 64-bit numbers as strings, every field)", OutputFormatWords, OutputFormat.Table),
        "-o");

    public WordOption<ColorMode> Color { get; } = Recursive(
        CliArgs.Word("--color", "ANSI colours; auto: on a terminal without NO_COLOR", ColorWords, ColorMode.Auto));

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

    private static IReadOnlyDictionary<string, OutputFormat> OutputFormatWords => new Dictionary<string, OutputFormat>
    {
        ["table"] = OutputFormat.Table,
        ["json"] = OutputFormat.Json,
    };

    private static IReadOnlyDictionary<string, ColorMode> ColorWords => new Dictionary<string, ColorMode>
    {
        ["auto"] = ColorMode.Auto,
        ["always"] = ColorMode.Always,
        ["never"] = ColorMode.Never,
    };

    private static WordOption<T> Recursive<T>(WordOption<T> word, params string[] aliases)
        where T : struct, Enum
    {
        word.Option.Recursive = true;
        foreach (var alias in aliases)
        {
            word.Option.Aliases.Add(alias);
        }

        return word;
    }
}
