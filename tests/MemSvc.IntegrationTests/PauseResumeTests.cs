using Grpc.Core;
using Grpc.Health.V1;
using MemSvc.Contracts.V1;
using MemSvc.IntegrationTests.Infrastructure;
using static MemSvc.IntegrationTests.Infrastructure.MemSvcClients;

namespace MemSvc.IntegrationTests;

/// <summary>
/// A frozen service (docker pause: the cgroup freezer, as during a live migration or a node under pressure)
/// must not cost a watcher any event: after docker unpause the same watch goes on, exactly once, without gaps.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class PauseResumeTests(DockerFixture docker)
{
    private const string Vm = "vms/paused";

    [Fact(Timeout = 180_000)]
    public async Task Watch_survives_docker_pause_and_unpause()
    {
        docker.SkipIfUnavailable();
        await using var memsvc = await MemSvcContainer.StartAsync(docker.Image);
        var api = new MemSvcClients(memsvc.Channel);
        var ct = TestContext.Current.CancellationToken;

        await api.Vms.CreateVmAsync(new CreateVmRequest
        {
            VmId = "paused",
            Backend = Backend.Simulated,
            VmType = VmType.SwProtected,
            VcpuCount = 1,
            FaultPolicy = FaultPolicy.Auto,
        }, cancellationToken: ct);
        var gmem = (await api.Memory.CreateGuestMemfdAsync(new CreateGuestMemfdRequest { Parent = Vm, Size = 2 * MiB }, cancellationToken: ct)).GuestMemfd;
        var region = new SetMemoryRegionRequest { Parent = Vm, Slot = 0, Gpa = 0, Size = 2 * MiB, GuestMemfd = gmem.Name };
        region.Flags.Add(MemoryRegionFlag.GuestMemfd);
        await api.Memory.SetMemoryRegionAsync(region, cancellationToken: ct);

        // From the VM's next event on: a start of 0 would race the conversion below (whichever the server takes
        // first), and could not be resumed from if the pause cut the stream before its first event.
        var last = (await api.Vms.GetVmAsync(new GetVmRequest { Name = Vm }, cancellationToken: ct)).Vm.LastEventSequence;
        await using var watcher = new EventStream(api.Events, Vm, startSequence: last + 1);
        await ConvertAsync(api, 0, ct);
        var first = await watcher.NextAsync(TimeSpan.FromSeconds(10), "the conversion before the pause");
        Assert.Equal(Event.PayloadOneofCase.ConversionApplied, first.PayloadCase);

        await memsvc.Container.PauseAsync(ct);
        Log.Write($"container {memsvc.Container.Id[..12]} paused");
        try
        {
            // The freeze is real: the server cannot answer while paused.
            var frozen = await Assert.ThrowsAsync<RpcException>(() => new Health.HealthClient(memsvc.Channel)
                .CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct).ResponseAsync);
            Assert.Equal(StatusCode.DeadlineExceeded, frozen.StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
        }
        finally
        {
            await memsvc.Container.UnpauseAsync(ct);
            Log.Write($"container {memsvc.Container.Id[..12]} unpaused");
        }

        await ConvertAsync(api, Page, ct);
        var second = await watcher.NextAsync(TimeSpan.FromSeconds(20), "the conversion after the unpause");
        Assert.Equal(first.Sequence + 1, second.Sequence);
        Assert.Equal(Event.PayloadOneofCase.ConversionApplied, second.PayloadCase);
        Assert.Equal((Page, Page, true), (second.ConversionApplied.Gpa, second.ConversionApplied.Size, second.ConversionApplied.ToPrivate));
        Log.Write($"the watch resumed after the pause with {watcher.Reconnects} reconnect(s)");

        // Nothing twice, nothing lost: the next event is whatever comes next, not a replay.
        await ConvertAsync(api, 2 * Page, ct);
        var third = await watcher.NextAsync(TimeSpan.FromSeconds(10), "one more conversion");
        Assert.Equal((second.Sequence + 1, 2 * Page), (third.Sequence, third.ConversionApplied?.Gpa ?? 0));
    }

    private static async Task ConvertAsync(MemSvcClients api, ulong gpa, CancellationToken ct) =>
        await api.Memory.ConvertMemoryAsync(
            new ConvertMemoryRequest { Vm = Vm, Gpa = gpa, Size = Page, Target = MemoryVisibility.Private },
            cancellationToken: ct);
}
