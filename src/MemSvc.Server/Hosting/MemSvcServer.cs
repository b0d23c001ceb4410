using MemSvc.Contracts.V1;
using MemSvc.Core.Options;
using MemSvc.Server.Connections;
using MemSvc.Server.Errors;
using MemSvc.Server.Execution;
using MemSvc.Server.Handoff;
using MemSvc.Server.Identity;
using MemSvc.Server.Mapping;
using MemSvc.Server.Security;
using MemSvc.Server.Services;
using MemSvc.Server.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Builds the whole server: Program runs it, and tests start the very same host (real Kestrel, real listeners)
/// with their own configuration on top.
/// </summary>
public static class MemSvcServer
{
    /// <param name="args">Command-line arguments (configuration overrides such as --MemSvc:LoopbackPort=50051).</param>
    /// <param name="configure">
    /// Last changes to the builder, after every default: tests set their listeners here, and attach exporters of
    /// their own to the OpenTelemetry providers (ConfigureOpenTelemetryTracerProvider / MeterProvider).
    /// </param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings*.json sit beside the binary; the working directory (a checkout, systemd's, a container's) must
        // not decide which settings apply.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // Under systemd (Type=notify): READY=1 once Kestrel listens, STOPPING=1 on shutdown, and log lines with the
        // journal's priority prefix and event ids. Elsewhere it changes nothing.
        builder.Host.UseSystemd();
        builder.Services.AddOptions<MemSvcOptions>()
            .Bind(builder.Configuration.GetSection(MemSvcOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MemSvcOptions>, MemSvcOptionsValidator>();

        builder.AddMemSvcTelemetry();

        // Made now, not at the first GetHostInfo, so that its start time is the process's.
        builder.Services.AddSingleton(new ServerInstance());
        builder.Services.AddSingleton<Listeners>();
        builder.Services.AddSingleton(services => new ConnectionBudget(
            ConnectionLimits.Resolve(services.GetRequiredService<IOptions<MemSvcOptions>>().Value.Connections, OpenFileLimit.Current())));
        builder.Services.AddSingleton(services => new ConnectionAdmission(
            services.GetRequiredService<ConnectionBudget>(),
            services.GetRequiredService<IOptions<MemSvcOptions>>().Value.Connections,
            services.GetRequiredService<ILogger<ConnectionAdmission>>()));
        builder.Services.AddSingleton(services => new AcceptSlots(services.GetRequiredService<ConnectionBudget>().Limits, services.GetRequiredService<ILogger<AcceptSlots>>()));

        // Added after the builder's own socket transport: Kestrel binds through the last registered factory that can.
        builder.Services.AddSingleton<IConnectionListenerFactory, SlotBoundTransportFactory>();
        builder.Services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelSetup>();
        builder.Services.AddHostedService<ListenerAnnouncer>();

        builder.Services.AddSingleton<Takeover>();
        builder.Services.AddSingleton<HandoffGate>();
        builder.Services.AddHostedService<HandoffListener>();
        builder.Services.AddSingleton<IHostMemory>(new ProcHostMemory());
        builder.Services.AddSingleton<CoreHost>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CoreHost>());
        builder.Services.AddSingleton(services => services.GetRequiredService<CoreHost>().Manager);
        builder.Services.AddSingleton<RequestIds>();
        builder.Services.AddSingleton(services =>
        {
            var workers = services.GetRequiredService<IOptions<MemSvcOptions>>().Value.Workers;
            return new FairWorkers(workers.ResolvedCount, workers.ResolvedPerOwner, workers.Nice);
        });
        builder.Services.AddSingleton(services =>
            new ResolutionWorkers(services.GetRequiredService<IOptions<MemSvcOptions>>().Value.Workers.ResolvedResolutionCount));
        builder.Services.AddSingleton<SharedEventMessages>();
        builder.Services.AddOptions<SecurityOptions>()
            .Bind(builder.Configuration.GetSection(SecurityOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        builder.Services.AddOptions<TlsOptions>()
            .Bind(builder.Configuration.GetSection(TlsOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TlsOptions>, TlsOptionsValidator>();
        builder.Services.AddSingleton<CallerMapper>();
        builder.Services.AddSingleton<ICallerResolver, ConnectionCallerResolver>();
        builder.Services.AddSingleton(services => new InFlightCounter(services.GetRequiredService<IOptions<MemSvcOptions>>().Value.Quotas.MaxInFlightRequestsPerOwner));
        builder.Services.AddSingleton<InFlightLimit>();
        builder.Services.AddSingleton<MutationRateLimit>();
        builder.Services.AddSingleton<MalformedRequestGuard>();

        // Error mapping first: it is the outermost interceptor, so the limits' refusals are mapped too. The handoff gate
        // next: a call it refuses spends no quota. The in-flight
        // limit before the rate limit, so that a call it refuses spends none of the owner's tokens. Garbled bodies
        // are refused last, so that they count against both limits as any call does.
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.Interceptors.Add<HandoffGate>();
            grpc.Interceptors.Add<InFlightLimit>();
            grpc.Interceptors.Add<MutationRateLimit>();
            grpc.Interceptors.Add<MalformedRequestGuard>();
        });
        builder.Services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>()
            .Configure<IOptions<MemSvcOptions>>((grpc, options) => grpc.MaxReceiveMessageSize = options.Value.MaxReceiveMessageBytes);
        builder.Services.AddGrpcReflection();
        // Checked on each request: the cached default reports UNKNOWN until its first periodic publish.
        builder.Services.AddGrpcHealthChecks(health =>
        {
            health.UseHealthChecksCache = false;

            // Each MemSvc service by its own name too, as clients that check the service they call expect; every
            // one is served by the same core, so each reports what "" reports.
            foreach (var service in MethodPolicies.Methods.Select(method => method.Service.FullName).Distinct())
            {
                health.Services.Map(service, _ => true);
            }
        }).AddCheck<CoreHealthCheck>("core");
        MalformedRequests.GuardParsing(builder.Services);

        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseRefusedConnections();
        app.UseHealthOnlyPort();
        app.UsePrometheusScrapePort();
        app.UseWatchDeadlines();
        app.UseMessageSizeLimit();
        app.UseUnknownMethods();
        app.MapGrpcService<HostGrpcService>();
        app.MapGrpcService<VmGrpcService>();
        app.MapGrpcService<GuestMemoryGrpcService>();
        app.MapGrpcService<VcpuGrpcService>();
        app.MapGrpcService<EventGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>Kestrel's listeners come from validated options, resolved when Kestrel starts.</summary>
    private sealed class KestrelSetup(Listeners listeners, IOptions<MemSvcOptions> options, IOptions<TlsOptions> tls, ConnectionAdmission admission, ConnectionBudget budget)
        : IConfigureOptions<KestrelServerOptions>
    {
        public void Configure(KestrelServerOptions kestrel) => listeners.Configure(kestrel, options.Value, tls.Value, admission, budget.Limits);
    }
}
