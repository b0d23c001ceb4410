using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Errors;
using MemSvc.Server.Tests.Infrastructure;

namespace MemSvc.Server.Tests.Fuzz;

/// <summary>
/// Seeded random values in every field of every RPC, against <see cref="BadInputServer"/>'s VMs: no call may
/// fail INTERNAL or UNKNOWN (a crash the error table does not know), and a call that fails changes nothing.
/// </summary>
public sealed class FuzzTests
{
    private const int CallsPerRpc = 30;

    private static readonly StatusCode[] Undocumented = [StatusCode.Internal, StatusCode.Unknown, StatusCode.DataLoss];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Rpcs => [.. Calls.Keys];

    private static Dictionary<string, Func<Clients, FuzzValues, CancellationToken, Task>> Calls { get; } = new()
    {
        ["GetHostInfo"] = (c, f, ct) => c.Host.GetHostInfoAsync(new(), cancellationToken: ct).ResponseAsync,
        ["CreateVm"] = (c, f, ct) => c.Vms.CreateVmAsync(new() { VmId = f.Name(), Backend = f.Enum<Backend>(), VmType = f.Enum<VmType>(), VcpuCount = f.U32(), FaultPolicy = f.Enum<FaultPolicy>(), ResolutionTimeout = f.Duration(), TimeoutFallback = f.Enum<FaultAction>(), RequestId = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["GetVm"] = (c, f, ct) => c.Vms.GetVmAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["ListVms"] = (c, f, ct) => c.Vms.ListVmsAsync(new() { PageSize = f.I32(), PageToken = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["DeleteVm"] = (c, f, ct) => c.Vms.DeleteVmAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["CreateGuestMemfd"] = (c, f, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = f.Name(), Size = f.U64(), Flags = { Many(f, f.Enum<GuestMemfdFlag>) }, RequestId = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["GetGuestMemfd"] = (c, f, ct) => c.Memory.GetGuestMemfdAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["ListGuestMemfds"] = (c, f, ct) => c.Memory.ListGuestMemfdsAsync(new() { Parent = f.Name(), PageSize = f.I32(), PageToken = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["DeleteGuestMemfd"] = (c, f, ct) => c.Memory.DeleteGuestMemfdAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["AllocateGuestMemfd"] = (c, f, ct) => c.Memory.AllocateGuestMemfdAsync(new() { Name = f.Name(), Offset = f.U64(), Size = f.U64() }, cancellationToken: ct).ResponseAsync,
        ["DiscardGuestMemfd"] = (c, f, ct) => c.Memory.DiscardGuestMemfdAsync(new() { Name = f.Name(), Offset = f.U64(), Size = f.U64() }, cancellationToken: ct).ResponseAsync,
        ["SetMemoryRegion"] = (c, f, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = f.Name(), Slot = f.U32(), Gpa = f.U64(), Size = f.U64(), Flags = { Many(f, f.Enum<MemoryRegionFlag>) }, GuestMemfd = f.Name(), GuestMemfdOffset = f.U64(), SharedBacking = f.Enum<SharedBacking>() }, cancellationToken: ct).ResponseAsync,
        ["GetMemoryRegion"] = (c, f, ct) => c.Memory.GetMemoryRegionAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["DeleteMemoryRegion"] = (c, f, ct) => c.Memory.DeleteMemoryRegionAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["ListMemoryRegions"] = (c, f, ct) => c.Memory.ListMemoryRegionsAsync(new() { Parent = f.Name(), PageSize = f.I32(), PageToken = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["RevokeMemoryRegionBacking"] = (c, f, ct) => c.Memory.RevokeMemoryRegionBackingAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["SetMemoryAttributes"] = (c, f, ct) => c.Memory.SetMemoryAttributesAsync(new() { Vm = f.Name(), Gpa = f.U64(), Size = f.U64(), Attributes = { Many(f, f.Enum<MemoryAttribute>) } }, cancellationToken: ct).ResponseAsync,
        ["GetMemoryAttributes"] = (c, f, ct) => c.Memory.GetMemoryAttributesAsync(new() { Vm = f.Name(), Gpa = f.U64(), Size = f.U64() }, cancellationToken: ct).ResponseAsync,
        ["ConvertMemory"] = (c, f, ct) => c.Memory.ConvertMemoryAsync(new() { Vm = f.Name(), Gpa = f.U64(), Size = f.U64(), Target = f.Enum<MemoryVisibility>() }, cancellationToken: ct).ResponseAsync,
        ["ReadGuestMemory"] = (c, f, ct) => c.Memory.ReadGuestMemoryAsync(new() { Vm = f.Name(), Gpa = f.U64(), Size = f.U64() }, cancellationToken: ct).ResponseAsync,
        ["WriteGuestMemory"] = (c, f, ct) => c.Memory.WriteGuestMemoryAsync(new() { Vm = f.Name(), Gpa = f.U64(), Data = f.Bytes() }, cancellationToken: ct).ResponseAsync,
        ["LoadGuestProgram"] = (c, f, ct) => c.Vcpus.LoadGuestProgramAsync(new() { Name = f.Name(), Program = RandomProgram(f) }, cancellationToken: ct).ResponseAsync,
        ["StartVcpu"] = (c, f, ct) => c.Vcpus.StartVcpuAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["PauseVcpu"] = (c, f, ct) => c.Vcpus.PauseVcpuAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["GetVcpu"] = (c, f, ct) => c.Vcpus.GetVcpuAsync(new() { Name = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["ListVcpus"] = (c, f, ct) => c.Vcpus.ListVcpusAsync(new() { Parent = f.Name(), PageSize = f.I32(), PageToken = f.Name() }, cancellationToken: ct).ResponseAsync,
        ["ResolveFault"] = (c, f, ct) => c.Events.ResolveFaultAsync(new() { Vm = f.Name(), FaultId = f.U64(), Action = f.Enum<FaultAction>() }, cancellationToken: ct).ResponseAsync,
        ["WatchEvents"] = WatchAsync,
        ["ListPendingFaults"] = (c, f, ct) => c.Events.ListPendingFaultsAsync(new() { Vm = f.Name(), PageSize = f.I32(), PageToken = f.Name() }, cancellationToken: ct).ResponseAsync,
    };

    [Theory]
    [MemberData(nameof(Rpcs))]
    public async Task Random_fields_never_fail_INTERNAL_and_a_failed_call_changes_nothing(string rpc)
    {
        var fixture = new BadInputServer();
        await fixture.InitializeAsync();
        await using var _ = fixture;
        var clients = fixture.Clients;
        var values = new FuzzValues(Seed(rpc));
        var call = Calls[rpc];
        var before = await StateSnapshot.TakeAsync(clients);

        for (var i = 0; i < CallsPerRpc; i++)
        {
            try
            {
                await call(clients, values, Ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded && rpc == "WatchEvents")
            {
                // A watch that was accepted and then waited for events: it succeeded.
            }
            catch (RpcException e)
            {
                Assert.DoesNotContain(e.StatusCode, Undocumented);
                Assert.Equal(before, await StateSnapshot.TakeAsync(clients));
                continue;
            }

            before = await StateSnapshot.TakeAsync(clients);
        }
    }

    /// <summary>A stable seed per RPC (string.GetHashCode is randomized per process).</summary>
    private static int Seed(string rpc) => rpc.Aggregate(17, (hash, c) => unchecked((hash * 31) + c));

    private static IEnumerable<T> Many<T>(FuzzValues values, Func<T> one) => [.. Enumerable.Range(0, values.Count(3)).Select(_ => one())];

    private static GuestProgram RandomProgram(FuzzValues f)
    {
        var program = new GuestProgram();
        for (var i = f.Count(4); i > 0; i--)
        {
            program.Steps.Add((f.Count(5)) switch
            {
                0 => new GuestStep { WritePattern = new() { Gpa = f.U64(), Length = f.U64(), Pattern = f.U32(), Intent = f.Enum<AccessIntent>() } },
                1 => new GuestStep { CheckPattern = new() { Gpa = f.U64(), Length = f.U64(), Pattern = f.U32(), Intent = f.Enum<AccessIntent>() } },
                2 => new GuestStep { MapGpaRange = new() { Gpa = f.U64(), Pages = f.U64(), ToPrivate = f.Bool() } },
                3 => new GuestStep { Report = new() { Value = f.U32() } },
                4 => new GuestStep { Halt = new() },
                _ => new GuestStep(),
            });
        }

        return program;
    }

    private static async Task WatchAsync(Clients clients, FuzzValues f, CancellationToken ct)
    {
        var filter = new EventFilter { Kinds = { Many(f, f.Enum<EventKind>) }, Vcpus = { Many(f, f.U32) } };
        using var call = clients.Events.WatchEvents(new() { Vm = f.Name(), StartSequence = f.U64(), Filter = filter }, deadline: DateTime.UtcNow.AddMilliseconds(200), cancellationToken: ct);
        await call.ResponseStream.MoveNext(ct);
    }
}
