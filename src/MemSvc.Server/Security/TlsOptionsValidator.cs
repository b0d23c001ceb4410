using Microsoft.Extensions.Options;

namespace MemSvc.Server.Security;

/// <summary>A TLS port without its three files would either fail at the first handshake or run without mTLS: refused at start-up.</summary>
internal sealed class TlsOptionsValidator : IValidateOptions<TlsOptions>
{
    public ValidateOptionsResult Validate(string? name, TlsOptions options)
    {
        if (options.Port is null)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"MemSvc:Tls:Port must be 0 to 65535, not {options.Port}.");
        }

        Require(failures, nameof(TlsOptions.CertificatePath), options.CertificatePath);
        Require(failures, nameof(TlsOptions.KeyPath), options.KeyPath);
        Require(failures, nameof(TlsOptions.ClientCaPath), options.ClientCaPath);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Require(List<string> failures, string key, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            failures.Add($"MemSvc:Tls:{key} is required when MemSvc:Tls:Port is set (TCP beyond loopback is mTLS only).");
        }
        else if (!File.Exists(path))
        {
            failures.Add($"MemSvc:Tls:{key} '{path}' does not exist.");
        }
    }
}
