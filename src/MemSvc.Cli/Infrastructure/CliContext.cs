using System.CommandLine;
using MemSvc.Client;
using MemSvc.Client.Connection;

namespace MemSvc.Cli.Infrastructure;

/// <summary>What a command's action works with: the writers, the output format, colours and the client.</summary>
internal sealed class CliContext : IDisposable
{
    private readonly Lazy<MemSvcClient> _client;

    public CliContext(ParseResult parse, GlobalOptions options, CliEnvironment environment)
    {
        Out = environment.Out;
        Error = environment.Error;
        Format = parse.GetValue(options.Output);
        IsTerminal = environment.IsTerminal;
        Color = parse.GetValue(options.Color) switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => environment.IsTerminal && string.IsNullOrEmpty(environment.Variable("NO_COLOR")) && environment.Variable("TERM") != "dumb",
        };
        ClientOptions = BuildClientOptions(parse, options, environment.Variable);
        _client = new Lazy<MemSvcClient>(() => new MemSvcClient(ClientOptions));
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public OutputFormat Format { get; }

    public bool Json => Format == OutputFormat.Json;

    public bool Color { get; }

    public bool IsTerminal { get; }

    public MemSvcClientOptions ClientOptions { get; }

    public MemSvcClient Client => _client.Value;

    /// <summary>Where the client connects, for error messages.</summary>
    public string Endpoint => ClientOptions.Address?.ToString() ?? $"unix:{ClientOptions.SocketPath}";

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    private static MemSvcClientOptions BuildClientOptions(ParseResult parse, GlobalOptions options, Func<string, string?> variable)
    {
        var seconds = parse.GetValue(options.Deadline);
        if (seconds <= 0 || double.IsNaN(seconds))
        {
            throw new UsageException("--deadline must be a positive number of seconds");
        }

        var client = new MemSvcClientOptions
        {
            DefaultDeadline = TimeSpan.FromSeconds(seconds),
            ClientCertificatePath = parse.GetValue(options.ClientCertificate),
            ClientKeyPath = parse.GetValue(options.ClientKey),
            CaCertificatePath = parse.GetValue(options.CaCertificate),
        };

        // An explicit option beats the environment, and an address beats a socket at the same level.
        var socket = parse.GetValue(options.Socket);
        var address = ParseAddress(parse.GetValue(options.Address), "--address");
        if (socket is null && address is null)
        {
            socket = NullIfEmpty(variable(DefaultEndpoint.SocketVariable));
            if (socket is null)
            {
                address = ParseAddress(NullIfEmpty(variable(DefaultEndpoint.AddressVariable)), DefaultEndpoint.AddressVariable);
            }
        }

        if (address is not null)
        {
            if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
            {
                throw new UsageException($"--address must be an http:// or https:// URL, not {address}");
            }

            client.Address = address;
        }
        else
        {
            client.SocketPath = socket ?? DefaultEndpoint.ResolveSocket(variable);
            client.SocketServerUid = socket is null ? DefaultEndpoint.RequiredServerUid(client.SocketPath, variable) : null;
        }

        return client;
    }

    private static Uri? ParseAddress(string? text, string source) =>
        text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var parsed) ? parsed
        : throw new UsageException($"{source} is not an absolute URL: {text}");

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
