using MemSvc.Server.Connections;
using MemSvc.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MemSvc.Server.Tests.Connections;

/// <summary>The connection budget's numbers and counting, without a server.</summary>
public sealed class ConnectionBudgetTests
{
    [Theory]
    [InlineData(1024, 512, 480, 360, 256)]
    [InlineData(20_000, 10_000, 4096, 3072, 256)]
    [InlineData(524_288, 262_144, 4096, 3072, 256)]
    public void Unset_limits_are_derived_from_the_open_file_limit(long openFiles, int reserved, int total, int perListener, int perPeer)
    {
        var limits = ConnectionLimits.Resolve(new ConnectionOptions(), openFiles);

        Assert.Equal((reserved, total, perListener, perPeer, 64, 32), (limits.Reserved, limits.Total, limits.PerListener, limits.PerPeer, limits.PerProbeListener, limits.RefusalSlots));
        Assert.Empty(ConnectionLimits.Problems(new ConnectionOptions(), openFiles));
    }

    [Fact]
    public void Limits_that_would_reach_the_reserved_descriptors_are_refused()
    {
        Assert.Equal(
            ["MemSvc:Connections: 0 connections + 32 refusal slots + 512 reserved descriptors need 544 open files, but the process may open 512; raise the open-file limit (systemd: LimitNOFILE) or lower MaxTotal or ReservedFds."],
            ConnectionLimits.Problems(new ConnectionOptions(), 512));
        Assert.Single(ConnectionLimits.Problems(new ConnectionOptions { MaxTotal = 1000 }, 1024));
        Assert.Single(ConnectionLimits.Problems(new ConnectionOptions { MaxPerPeer = 0 }, 1024));
    }

    [Fact]
    public void The_server_listener_and_peer_limits_are_checked_in_that_order_and_a_release_gives_back_each()
    {
        var budget = new ConnectionBudget(ConnectionLimits.Resolve(new ConnectionOptions { MaxTotal = 3, MaxPerListener = 2, MaxPerPeer = 1 }, 1 << 20));

        Assert.Null(budget.TryAdmit("loopback", false, "127.0.0.1"));
        Assert.Equal("peer", budget.TryAdmit("loopback", false, "127.0.0.1")?.Scope);
        Assert.Null(budget.TryAdmit("loopback", false, "127.0.0.2"));
        Assert.Equal("listener", budget.TryAdmit("loopback", false, "127.0.0.3")?.Scope);
        Assert.Null(budget.TryAdmit("socket", false, "uid:0"));
        Assert.Equal(new ConnectionRefusal("server", 3, "socket", "uid:1"), budget.TryAdmit("socket", false, "uid:1"));

        budget.Release("loopback", "127.0.0.1");

        Assert.Null(budget.TryAdmit("loopback", false, "127.0.0.1"));
        Assert.Equal(3, budget.Open);
    }

    [Fact]
    public void Refusal_slots_run_out_and_come_back()
    {
        var budget = new ConnectionBudget(ConnectionLimits.Resolve(new ConnectionOptions { RefusalSlots = 1 }, 1 << 20));

        Assert.True(budget.TryStartRefusal());
        Assert.False(budget.TryStartRefusal());
        budget.EndRefusal();
        Assert.True(budget.TryStartRefusal());
    }

    [Fact]
    public async Task A_server_configured_past_its_open_file_limit_fails_start_up()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningServer.StartAsync(("MemSvc:Connections:MaxTotal", "10000000")));

        Assert.Contains("raise the open-file limit", Assert.Single(error.Failures), StringComparison.Ordinal);
    }
}
