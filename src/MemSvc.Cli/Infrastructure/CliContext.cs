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
        Format = options.Output.Value(parse);
        IsTerminal = environment.IsTerminal;
        Color = options.Color.Value(parse) switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => environment.IsTerminal && string.IsNullOrEmpty(environment.Variable("NO_COLOR")) && environment.Variable("TERM") != "dumb",
        };
        (ClientOptions, EndpointSource) = BuildClientOptions(parse, options, environment.Variable);
        if (EndpointSource == DefaultSource)
        {
            SocketCandidates = DefaultEndpoint.SocketCandidates(environment.Variable);
        }
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

    /// <summary>Where <see cref="Endpoint"/> came from: an option, an environment variable, or the default.</summary>
    public string EndpointSource { get; }

    /// <summary>The socket paths looked at, when no option or variable named one; else null.</summary>
    public IReadOnlyList<string>? SocketCandidates { get; }

    /// <summary>What an action did: <paramref name="line"/> for people, <paramref name="json"/> (one object) under -o json.</summary>
    public Task ReportAsync(string line, Func<System.Text.Json.Nodes.JsonObject> json) =>
        Out.WriteLineAsync(Json ? Output.JsonOutput.Format(json()) : line);

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    private const string DefaultSource = "the default";

    private static (MemSvcClientOptions Options, string Source) BuildClientOptions(ParseResult parse, GlobalOptions options, Func<string, string?> variable)
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
        var source = address is not null ? "--address" : "--socket";
        if (socket is null && address is null)
        {
            socket = NullIfEmpty(variable(DefaultEndpoint.SocketVariable));
            source = DefaultEndpoint.SocketVariable;
            if (socket is null)
            {
                address = ParseAddress(NullIfEmpty(variable(DefaultEndpoint.AddressVariable)), DefaultEndpoint.AddressVariable);
                source = address is null ? DefaultSource : DefaultEndpoint.AddressVariable;
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

        return (client, source);
    }

    private static Uri? ParseAddress(string? text, string source) =>
        text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var parsed) ? parsed
        : throw new UsageException($"{source} is not an absolute URL: {text}");

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
