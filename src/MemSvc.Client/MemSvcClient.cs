using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using MemSvc.Client.Api;
using MemSvc.Client.Connection;
using MemSvc.Client.Diagnostics;
using MemSvc.Client.Resilience;
using MemSvc.Contracts.V1;

namespace MemSvc.Client;

/// <summary>
/// The MemSvc SDK: one channel, and a typed API per service. Every unary call has a deadline and runs in the retry
/// pipeline its idempotency allows; every failure is a <see cref="Errors.MemSvcException"/>.
/// </summary>
public sealed class MemSvcClient : IDisposable
{
    private readonly GrpcChannel _channel;

    /// <summary>A client with its own channel, as <paramref name="options"/> say; dispose it to close the channel.</summary>
    public MemSvcClient(MemSvcClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _channel = ChannelFactory.Create(options);
        // Innermost: a span per attempt, current while the attempt is sent, so its traceparent goes on the wire.
        CallInvoker invoker = _channel.CreateCallInvoker().Intercept(new ClientTracing());

        // Intercept wraps the last one outermost, so reverse to honour the "outermost first" order of the options.
        foreach (var interceptor in options.Interceptors.Reverse())
        {
            invoker = invoker.Intercept(interceptor);
        }

        Pipelines = new RetryPipelines(options);
        var unary = new UnaryInvoker(Pipelines, options.DefaultDeadline);
        Host = new HostApi(new HostService.HostServiceClient(invoker), unary);
        Vms = new VmApi(new VmService.VmServiceClient(invoker), unary);
        Memory = new GuestMemoryApi(new GuestMemoryService.GuestMemoryServiceClient(invoker), unary);
        Vcpus = new VcpuApi(new VcpuService.VcpuServiceClient(invoker), unary);
        Events = new EventApi(new EventService.EventServiceClient(invoker), unary, options, Vms);
    }

    /// <summary>The options this client was made with.</summary>
    public MemSvcClientOptions Options { get; }

    /// <summary>The retry pipelines, by call kind (exposed so that tests can inspect their composition).</summary>
    public RetryPipelines Pipelines { get; }

    /// <summary>HostService: backends, capabilities and limits.</summary>
    public HostApi Host { get; }

    /// <summary>VmService: create, get, list and delete VMs.</summary>
    public VmApi Vms { get; }

    /// <summary>GuestMemoryService: guest_memfds, memory regions, attributes, conversion, reads and writes.</summary>
    public GuestMemoryApi Memory { get; }

    /// <summary>VcpuService: start, pause and inspect vCPUs.</summary>
    public VcpuApi Vcpus { get; }

    /// <summary>EventService: resumable watches and fault resolution.</summary>
    public EventApi Events { get; }

    /// <summary>A client over the Unix domain socket at <paramref name="socketPath"/>.</summary>
    public static MemSvcClient ForSocket(string socketPath) => new(new MemSvcClientOptions { SocketPath = socketPath });

    /// <summary>A client over an http:// (loopback h2c) or https:// address.</summary>
    public static MemSvcClient ForAddress(Uri address) => new(new MemSvcClientOptions { Address = address });

    /// <summary>Closes the channel: calls and watches in flight end with CANCELLED.</summary>
    public void Dispose() => _channel.Dispose();
}
