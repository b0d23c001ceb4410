using System.Diagnostics.Metrics;

namespace MemSvc.Server.Telemetry;

/// <summary>
/// The Meter "MemSvc.Server": what the gRPC layer decides on its own, before Core sees a call. Today that is the
/// calls it refuses at admission, which an operator needs to see to tell a throttled owner from a slow host.
/// </summary>
internal static class ServerMetrics
{
    public const string MeterName = "MemSvc.Server";

    /// <summary>The reason tag of a call over the owner's rate of state-changing calls.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The reason tag of a call over the owner's in-flight limit.</summary>
    public const string InFlight = "in_flight";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Refused = Meter.CreateCounter<long>(
        "memsvc.server.calls.refused", "{call}", "Calls refused before they ran, by owner, method and reason (rate_limited, in_flight)");

    private static readonly Counter<long> ConnectionsRefused = Meter.CreateCounter<long>(
        "memsvc.server.connections.refused", "{connection}", "Connections refused at a connection limit, by listener and scope (server, listener, peer)");

    public static void ConnectionRefused(string listener, string scope) =>
        ConnectionsRefused.Add(1, new("listener", listener), new("scope", scope));

    /// <param name="method">The gRPC method, "/memsvc.v1.VmService/CreateVm".</param>
    public static void CallRefused(string owner, string method, string reason) =>
        Refused.Add(1, new("owner", owner), new("method", method), new("reason", reason));
}
