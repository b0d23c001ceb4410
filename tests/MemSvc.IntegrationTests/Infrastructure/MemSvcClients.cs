using Grpc.Net.Client;
using MemSvc.Contracts.V1;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>The generated clients of every MemSvc service on one channel, and the sizes the tests use.</summary>
internal sealed class MemSvcClients(GrpcChannel channel)
{
    public const ulong KiB = 1024;
    public const ulong MiB = 1024 * KiB;
    public const ulong Page = 4 * KiB;

    public HostService.HostServiceClient Host { get; } = new(channel);

    public VmService.VmServiceClient Vms { get; } = new(channel);

    public GuestMemoryService.GuestMemoryServiceClient Memory { get; } = new(channel);

    public VcpuService.VcpuServiceClient Vcpus { get; } = new(channel);

    public EventService.EventServiceClient Events { get; } = new(channel);

    /// <summary>Slot 0 at gpa 0: a fresh guest_memfd of <paramref name="size"/> bytes, its shared side anonymous memory.</summary>
    public async Task BindGuestMemfdSlotAsync(string vm, ulong size, CancellationToken ct, params GuestMemfdFlag[] flags)
    {
        var create = new CreateGuestMemfdRequest { Parent = vm, Size = size };
        create.Flags.Add(flags);
        var gmem = (await Memory.CreateGuestMemfdAsync(create, cancellationToken: ct)).GuestMemfd;
        var region = new SetMemoryRegionRequest
        {
            Parent = vm,
            Slot = 0,
            Gpa = 0,
            Size = size,
            GuestMemfd = gmem.Name,
            SharedBacking = SharedBacking.Anonymous,
        };
        region.Flags.Add(MemoryRegionFlag.GuestMemfd);
        await Memory.SetMemoryRegionAsync(region, cancellationToken: ct);
    }

    public static GuestStep Write(ulong gpa, ulong length, byte pattern, AccessIntent intent) =>
        new() { WritePattern = new WritePatternStep { Gpa = gpa, Length = length, Pattern = pattern, Intent = intent } };

    public static GuestStep Check(ulong gpa, ulong length, byte pattern, AccessIntent intent) =>
        new() { CheckPattern = new CheckPatternStep { Gpa = gpa, Length = length, Pattern = pattern, Intent = intent } };

    public static GuestStep MapGpaRange(ulong gpa, ulong pages, bool toPrivate) =>
        new() { MapGpaRange = new MapGpaRangeStep { Gpa = gpa, Pages = pages, ToPrivate = toPrivate } };

    public static GuestStep Report(uint value) => new() { Report = new ReportStep { Value = value } };

    public static GuestStep Halt() => new() { Halt = new HaltStep() };

    public static GuestProgram Program(params GuestStep[] steps)
    {
        var program = new GuestProgram();
        program.Steps.Add(steps);
        return program;
    }
}
