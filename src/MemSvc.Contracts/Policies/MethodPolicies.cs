using System.Collections.Frozen;
using Google.Protobuf.Reflection;

namespace MemSvc.Contracts.V1;

/// <summary>
/// Each RPC's <see cref="MethodPolicy"/>, the <c>(memsvc.v1.policy)</c> option declared on it in the protos, by the
/// path gRPC calls it by (<c>/memsvc.v1.VmService/CreateVm</c>). The server's limits and the SDK's retries read
/// them here, so that a new RPC is treated as its declaration says and nowhere else.
/// </summary>
public static class MethodPolicies
{
    // Every service of the contract, found through the generated *Reflection classes so that a new proto file's
    // services are included without a list to extend.
    private static readonly FrozenDictionary<string, MethodDescriptor> ByPath =
        typeof(MethodPolicies).Assembly.GetTypes()
            .Select(t => t.GetProperty("Descriptor", typeof(FileDescriptor))?.GetValue(null) as FileDescriptor)
            .OfType<FileDescriptor>()
            .Where(f => f.Package == "memsvc.v1")
            .SelectMany(f => f.Services)
            .SelectMany(s => s.Methods)
            .ToFrozenDictionary(m => Path(m), StringComparer.Ordinal);

    // Read once: GetOptions copies the options on every call, and the limits ask on every call.
    private static readonly FrozenDictionary<string, MethodPolicy> PolicyByPath =
        ByPath.Where(p => Declared(p.Value) is not null).ToFrozenDictionary(p => p.Key, p => Declared(p.Value)!, StringComparer.Ordinal);

    /// <summary>Every RPC of memsvc.v1.</summary>
    public static IReadOnlyCollection<MethodDescriptor> Methods => ByPath.Values;

    /// <summary>The gRPC path of <paramref name="method"/>: <c>/memsvc.v1.VmService/CreateVm</c>.</summary>
    public static string Path(MethodDescriptor method)
    {
        ArgumentNullException.ThrowIfNull(method);
        return $"/{method.Service.FullName}/{method.Name}";
    }

    /// <summary>The policy declared on <paramref name="method"/>, or null when it has none.</summary>
    public static MethodPolicy? Declared(MethodDescriptor method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var options = method.GetOptions();
        return options is not null && options.HasExtension(MethodPolicyExtensions.Policy) ? options.GetExtension(MethodPolicyExtensions.Policy) : null;
    }

    /// <summary>
    /// The policy of the RPC at <paramref name="path"/>; null for a path outside memsvc.v1 (health checks,
    /// reflection) or an RPC without a declaration.
    /// </summary>
    public static MethodPolicy? Find(string path) => PolicyByPath.GetValueOrDefault(path);

    /// <summary>The policy of <paramref name="method"/> of <paramref name="service"/>, by the names the generated code has.</summary>
    public static MethodPolicy? Find(ServiceDescriptor service, string method)
    {
        ArgumentNullException.ThrowIfNull(service);
        return Find($"/{service.FullName}/{method}");
    }
}
