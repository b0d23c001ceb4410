using System.Globalization;
using MemSvc.Hypervisor.Simulated;
using MemSvc.Server.Connections;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Hosting;

/// <summary>Refuses a configuration that cannot work, at start-up rather than at the first request.</summary>
internal sealed class MemSvcOptionsValidator : IValidateOptions<MemSvcOptions>
{
    public const int MinJournalRetention = 16;
    public const int MaxJournalRetention = 16 * 1024 * 1024;

    // A file must hold a compacted half with room for a batch of events; past 1 GiB a file is read whole at start in vain.
    public const long MinJournalFileBytes = 64 << 10;
    public const long MaxJournalFileBytes = 1L << 30;

    // Past this an "overcommit" is no cap at all: guests could be promised far more than any host holds.
    public const double MaxOvercommitRatio = 64;
    public static readonly TimeSpan MaxResolutionTimeout = TimeSpan.FromHours(1);

    private static readonly string[] Backends = ["auto", "kvm", "simulated"];

    public ValidateOptionsResult Validate(string? name, MemSvcOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.SocketPath) && !Path.IsPathFullyQualified(options.SocketPath))
        {
            failures.Add($"MemSvc:SocketPath must be an absolute path, not '{options.SocketPath}'.");
        }

        if (options.SocketGroup is { } group && PosixFiles.ResolveGroup(group) is null)
        {
            failures.Add($"MemSvc:SocketGroup '{group}' is neither a gid nor a group in /etc/group.");
        }

        if (options.LoopbackPort is < 0 or > 65535)
        {
            failures.Add($"MemSvc:LoopbackPort must be 0 to 65535, not {options.LoopbackPort}.");
        }

        if (options.HealthPort is < 1 or > 65535)
        {
            failures.Add($"MemSvc:HealthPort must be 1 to 65535, not {options.HealthPort}.");
        }

        if (options.HealthPort is { } health && health == options.LoopbackPort)
        {
            failures.Add($"MemSvc:HealthPort and MemSvc:LoopbackPort must differ, not both {health}.");
        }

        if (options.Telemetry.PrometheusPort is < 1 or > 65535)
        {
            failures.Add($"MemSvc:Telemetry:PrometheusPort must be 1 to 65535, not {options.Telemetry.PrometheusPort}.");
        }

        // Only a valid port can collide: a loopback port of 0 (ephemeral) never equals it.
        if (options.Telemetry.PrometheusPort is { } scrape && scrape >= 1 && (scrape == options.HealthPort || scrape == options.LoopbackPort))
        {
            failures.Add($"MemSvc:Telemetry:PrometheusPort must differ from MemSvc:HealthPort and MemSvc:LoopbackPort, not {scrape}.");
        }

        if (string.IsNullOrEmpty(options.SocketPath) && options.LoopbackPort is null)
        {
            failures.Add("MemSvc needs a listener: set MemSvc:SocketPath or MemSvc:LoopbackPort.");
        }

        if (options.Handoff.Timeout <= TimeSpan.Zero || options.Handoff.Timeout > TimeSpan.FromHours(1))
        {
            failures.Add($"MemSvc:Handoff:Timeout must be more than 0 and at most 1 hour, not {options.Handoff.Timeout}.");
        }

        if (options.Handoff.TakeOver && string.IsNullOrEmpty(options.SocketPath))
        {
            failures.Add("MemSvc:Handoff:TakeOver needs MemSvc:SocketPath: the server to take over from is found beside its socket.");
        }

        if (!Backends.Contains(options.DefaultBackend, StringComparer.Ordinal))
        {
            failures.Add($"MemSvc:DefaultBackend must be auto, kvm or simulated, not '{options.DefaultBackend}'.");
        }

        if (!SimulatedHostProfile.TryGetByName(options.Simulated.HostProfile, out _))
        {
            failures.Add($"MemSvc:Simulated:HostProfile must be one of {string.Join(", ", SimulatedHostProfile.Names)}, not '{options.Simulated.HostProfile}'.");
        }

        if (options.JournalRetention is < MinJournalRetention or > MaxJournalRetention)
        {
            failures.Add($"MemSvc:JournalRetention must be {MinJournalRetention} to {MaxJournalRetention} events, not {options.JournalRetention}.");
        }

        if (options.Journal.Enabled && !Path.IsPathFullyQualified(options.Journal.Directory!))
        {
            failures.Add($"MemSvc:Journal:Directory must be an absolute path, not '{options.Journal.Directory}'.");
        }

        if (options.Journal.MaxFileBytes is < MinJournalFileBytes or > MaxJournalFileBytes)
        {
            failures.Add($"MemSvc:Journal:MaxFileBytes must be {MinJournalFileBytes} to {MaxJournalFileBytes} bytes, not {options.Journal.MaxFileBytes}.");
        }

        if (options.Journal.LostRetention <= TimeSpan.Zero)
        {
            failures.Add($"MemSvc:Journal:LostRetention must be more than 0, not {options.Journal.LostRetention}.");
        }

        if (options.ResolutionTimeout <= TimeSpan.Zero || options.ResolutionTimeout > MaxResolutionTimeout)
        {
            failures.Add($"MemSvc:ResolutionTimeout must be more than 0 and at most {MaxResolutionTimeout}, not {options.ResolutionTimeout}.");
        }

        var quotas = options.Quotas;
        if (quotas.MaxVmsPerOwner < 1 || quotas.MaxVcpusPerVm < 1 || quotas.MaxMemslotsPerVm < 1 || quotas.MaxWatchersPerOwner < 1 || quotas.MaxGuestMemoryBytesPerOwner == 0
            || quotas.MaxInFlightRequestsPerOwner < 1 || quotas.MaxGuestMemfdsPerOwner < 1
            || quotas.MaxJournalEventsPerOwner < 1)
        {
            failures.Add("MemSvc:Quotas:* must each be at least 1.");
        }

        if (!(options.HostMemory.OvercommitRatio > 0 && options.HostMemory.OvercommitRatio <= MaxOvercommitRatio))
        {
            failures.Add($"MemSvc:HostMemory:OvercommitRatio must be more than 0 and at most {MaxOvercommitRatio}, not {options.HostMemory.OvercommitRatio.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (options.RateLimit.MutationsPerMinute < 1 || options.RateLimit.MutationBurst < 1)
        {
            failures.Add("MemSvc:RateLimit:MutationsPerMinute and MutationBurst must each be at least 1.");
        }

        if (options.RateLimit.MaxQueueWait < TimeSpan.Zero || options.RateLimit.MaxQueueWait > TimeSpan.FromMinutes(1))
        {
            failures.Add($"MemSvc:RateLimit:MaxQueueWait must be 0 to 1 minute, not {options.RateLimit.MaxQueueWait}.");
        }

        if (options.MaxReceiveMessageBytes < 64 << 10)
        {
            failures.Add($"MemSvc:MaxReceiveMessageBytes must be at least 65536, not {options.MaxReceiveMessageBytes}.");
        }

        if (options.Workers.ResolvedCount < 1 || options.Workers.ResolvedPerOwner < 1 || options.Workers.ResolvedPerOwner > options.Workers.ResolvedCount)
        {
            failures.Add($"MemSvc:Workers:Count must be at least 1 and MemSvc:Workers:PerOwner 1 to Count, not {options.Workers.ResolvedCount} and {options.Workers.ResolvedPerOwner}.");
        }

        if (options.Workers.ResolvedResolutionCount < 1)
        {
            failures.Add($"MemSvc:Workers:ResolutionCount must be at least 1, not {options.Workers.ResolvedResolutionCount}.");
        }

        if (options.Workers.Nice is < 0 or > 19)
        {
            failures.Add($"MemSvc:Workers:Nice must be 0 to 19, not {options.Workers.Nice}.");
        }

        failures.AddRange(ConnectionLimits.Problems(options.Connections, OpenFileLimit.Current()));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
