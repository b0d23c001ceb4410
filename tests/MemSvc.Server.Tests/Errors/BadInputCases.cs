using Grpc.Core;
using MemSvc.Contracts.V1;
using MemSvc.Server.Tests.Infrastructure;
using static MemSvc.Server.Tests.Infrastructure.Steps;

namespace MemSvc.Server.Tests.Errors;

/// <summary>
/// A bad request to one RPC and exactly what it must fail with: status, ErrorInfo reason, BadRequest field, and
/// for errors from the backend the errno and operation. Run against <see cref="BadInputServer"/>'s VMs.
/// </summary>
public sealed record BadInputCase(Func<Clients, CancellationToken, Task> Call, StatusCode Code, string Reason, string? Field, string? Errno = null)
{
    private const string P = "vms/p";

    public static readonly IReadOnlyDictionary<string, BadInputCase> All = new Dictionary<string, BadInputCase>
    {
        ["CreateVm: vm_id not AIP-122"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "Bad_Id", VcpuCount = 1 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_VM_ID", "vm_id"),
        ["CreateVm: vm_id taken"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "p", VcpuCount = 1 }, cancellationToken: ct).ResponseAsync, StatusCode.AlreadyExists, "VM_ALREADY_EXISTS", "vm_id"),
        ["CreateVm: vm_type undefined"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, VmType = (VmType)99 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "vm_type"),
        ["CreateVm: backend undefined"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, Backend = (Backend)7 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "backend"),
        ["CreateVm: fault_policy undefined"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, FaultPolicy = (FaultPolicy)9 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "fault_policy"),
        ["CreateVm: timeout_fallback undefined"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, TimeoutFallback = (FaultAction)9 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "timeout_fallback"),
        ["CreateVm: negative resolution_timeout"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, ResolutionTimeout = new() { Seconds = -1 } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "resolution_timeout"),
        ["CreateVm: resolution_timeout over an hour"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, ResolutionTimeout = new() { Seconds = 3601 } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_RESOLUTION_TIMEOUT", "resolution_timeout"),
        ["CreateVm: resolution_timeout of 1 ns (D12)"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, ResolutionTimeout = new() { Nanos = 1 } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_RESOLUTION_TIMEOUT", "resolution_timeout"),
        ["CreateVm: resolution_timeout of 99 ns (D12)"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, ResolutionTimeout = new() { Nanos = 99 } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_RESOLUTION_TIMEOUT", "resolution_timeout"),
        ["CreateVm: resolution_timeout of 999.999 us"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, ResolutionTimeout = new() { Nanos = 999_999 } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_RESOLUTION_TIMEOUT", "resolution_timeout"),
        ["CreateVm: no vCPU"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 0 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_VCPU_COUNT", "vcpu_count"),
        ["CreateVm: backend absent"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, Backend = Backend.Kvm }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "BACKEND_UNAVAILABLE", "backend"),
        ["CreateVm: vm_type the backend lacks"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, VmType = VmType.Sev }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "VM_TYPE_UNSUPPORTED", "vm_type"),
        ["CreateVm: request_id too long"] = new((c, ct) => c.Vms.CreateVmAsync(new() { VmId = "x", VcpuCount = 1, RequestId = new string('r', 129) }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "request_id"),
        ["GetVm: no name"] = new((c, ct) => c.Vms.GetVmAsync(new() { Name = "" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "FIELD_REQUIRED", "name"),
        ["GetVm: not a VM name"] = new((c, ct) => c.Vms.GetVmAsync(new() { Name = "vm/p" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["GetVm: a trailing newline (D13)"] = new((c, ct) => c.Vms.GetVmAsync(new() { Name = "vms/p\n" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["GetVm: absent"] = new((c, ct) => c.Vms.GetVmAsync(new() { Name = "vms/nope" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND", null),
        ["ListVms: negative page_size"] = new((c, ct) => c.Vms.ListVmsAsync(new() { PageSize = -1 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_PAGE_SIZE", "page_size"),
        ["ListVms: forged page_token"] = new((c, ct) => c.Vms.ListVmsAsync(new() { PageToken = "forged" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token"),
        ["DeleteVm: not a VM name"] = new((c, ct) => c.Vms.DeleteVmAsync(new() { Name = "vms/P" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["DeleteVm: absent"] = new((c, ct) => c.Vms.DeleteVmAsync(new() { Name = "vms/nope" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND", null),

        ["CreateGuestMemfd: parent not a VM"] = new((c, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = "vms/p/vcpus/0", Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "parent"),
        ["CreateGuestMemfd: size not pages"] = new((c, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = P, Size = 100 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_SIZE", "size"),
        ["CreateGuestMemfd: request_id too long"] = new((c, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = P, Size = Page, RequestId = new string('r', 129) }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "request_id"),
        ["CreateGuestMemfd: flag unspecified"] = new((c, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = P, Size = Page, Flags = { GuestMemfdFlag.Unspecified } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "flags"),
        ["CreateGuestMemfd: flag twice"] = new((c, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = P, Size = Page, Flags = { GuestMemfdFlag.Mmap, GuestMemfdFlag.Mmap } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "DUPLICATE_VALUE", "flags"),
        ["CreateGuestMemfd: INIT_SHARED on a private VM (EINVAL)"] = new((c, ct) => c.Memory.CreateGuestMemfdAsync(new() { Parent = P, Size = Page, Flags = { GuestMemfdFlag.InitShared } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "GUEST_MEMFD_INVALID", "flags", "EINVAL"),
        ["GetGuestMemfd: id 0"] = new((c, ct) => c.Memory.GetGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/0" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["GetGuestMemfd: leading zero"] = new((c, ct) => c.Memory.GetGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/01" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["GetGuestMemfd: a VM id with a trailing newline (D13)"] = new((c, ct) => c.Memory.GetGuestMemfdAsync(new() { Name = "vms/p\n/guestMemfds/1" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["GetGuestMemfd: absent"] = new((c, ct) => c.Memory.GetGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/9" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "GUEST_MEMFD_NOT_FOUND", "guest_memfd"),
        ["ListGuestMemfds: page_token of another list"] = new(ForeignTokenAsync, StatusCode.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token"),
        ["ListGuestMemfds: negative page_size"] = new((c, ct) => c.Memory.ListGuestMemfdsAsync(new() { Parent = P, PageSize = -5 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_PAGE_SIZE", "page_size"),
        ["DeleteGuestMemfd: absent"] = new((c, ct) => c.Memory.DeleteGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/9" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "GUEST_MEMFD_NOT_FOUND", "guest_memfd"),
        ["AllocateGuestMemfd: past the end (EINVAL)"] = new((c, ct) => c.Memory.AllocateGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/1", Offset = 64 * MiB, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "FALLOCATE_RANGE_INVALID", "size", "EINVAL"),
        ["AllocateGuestMemfd: offset not a page"] = new((c, ct) => c.Memory.AllocateGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/1", Offset = 1, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_OFFSET", "offset"),
        ["DiscardGuestMemfd: empty"] = new((c, ct) => c.Memory.DiscardGuestMemfdAsync(new() { Name = "vms/p/guestMemfds/1", Offset = 0, Size = 0 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_SIZE", "size"),

        ["SetMemoryRegion: overlap (EEXIST)"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = P, Slot = 5, Gpa = 0, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.AlreadyExists, "MEMORY_REGION_OVERLAP", "gpa", "EEXIST"),
        ["SetMemoryRegion: beyond the guest_memfd (EINVAL)"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(Gmem(5, 128 * MiB, 2 * Page, offset: 64 * MiB), cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "MEMORY_REGION_INVALID", "guest_memfd_offset", "EINVAL"),
        ["SetMemoryRegion: READONLY on a private VM (EINVAL)"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(Gmem(5, 128 * MiB, Page, flags: MemoryRegionFlag.Readonly), cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "MEMORY_REGION_INVALID", "flags", "EINVAL"),
        ["SetMemoryRegion: slot out of range (EINVAL)"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = P, Slot = 40000, Gpa = 128 * MiB, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "MEMORY_REGION_INVALID", "slot", "EINVAL"),
        ["SetMemoryRegion: gmem-only without MMAP (ENODEV)"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(Gmem(5, 128 * MiB, Page, backing: SharedBacking.GuestMemfd), cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "GUEST_MEMFD_NOT_MAPPABLE", "guest_memfd", "ENODEV"),
        ["SetMemoryRegion: slot taken"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = P, Slot = 1, Gpa = 128 * MiB, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.AlreadyExists, "MEMORY_REGION_EXISTS", "slot"),
        ["SetMemoryRegion: GUEST_MEMFD flag without one"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = P, Slot = 5, Gpa = 128 * MiB, Size = Page, Flags = { MemoryRegionFlag.GuestMemfd } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "GUEST_MEMFD_REQUIRED", "guest_memfd"),
        ["SetMemoryRegion: another VM's guest_memfd"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(Gmem(5, 128 * MiB, Page, memfd: "vms/q/guestMemfds/1"), cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "GUEST_MEMFD_OF_OTHER_VM", "guest_memfd"),
        ["SetMemoryRegion: shared_backing undefined"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = P, Slot = 5, Gpa = 128 * MiB, Size = Page, SharedBacking = (SharedBacking)9 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "shared_backing"),
        ["SetMemoryRegion: empty"] = new((c, ct) => c.Memory.SetMemoryRegionAsync(new() { Parent = P, Slot = 5, Gpa = 128 * MiB, Size = 0 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_SIZE", "size"),
        ["GetMemoryRegion: absent"] = new((c, ct) => c.Memory.GetMemoryRegionAsync(new() { Name = "vms/p/memoryRegions/9" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "MEMORY_REGION_NOT_FOUND", "slot"),
        ["GetMemoryRegion: slot over 32 bits"] = new((c, ct) => c.Memory.GetMemoryRegionAsync(new() { Name = "vms/p/memoryRegions/4294967296" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["DeleteMemoryRegion: absent"] = new((c, ct) => c.Memory.DeleteMemoryRegionAsync(new() { Name = "vms/p/memoryRegions/9" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "MEMORY_REGION_NOT_FOUND", "slot"),
        ["ListMemoryRegions: forged page_token"] = new((c, ct) => c.Memory.ListMemoryRegionsAsync(new() { Parent = P, PageToken = "AAAA" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token"),
        ["RevokeMemoryRegionBacking: not gmem-only"] = new((c, ct) => c.Memory.RevokeMemoryRegionBackingAsync(new() { Name = "vms/p/memoryRegions/0" }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "REGION_NOT_GMEM_ONLY", "slot"),
        ["SetMemoryAttributes: gpa not a page"] = new((c, ct) => c.Memory.SetMemoryAttributesAsync(new() { Vm = P, Gpa = 1, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ADDRESS", "gpa"),
        ["SetMemoryAttributes: unspecified attribute"] = new((c, ct) => c.Memory.SetMemoryAttributesAsync(new() { Vm = P, Gpa = 0, Size = Page, Attributes = { MemoryAttribute.Unspecified } }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "attributes"),
        ["SetMemoryAttributes: default VM (ENOTTY)"] = new((c, ct) => c.Memory.SetMemoryAttributesAsync(new() { Vm = "vms/d", Gpa = 0, Size = Page, Attributes = { MemoryAttribute.Private } }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "MEMORY_ATTRIBUTES_UNSUPPORTED", null, "ENOTTY"),
        ["GetMemoryAttributes: empty"] = new((c, ct) => c.Memory.GetMemoryAttributesAsync(new() { Vm = P, Gpa = 0, Size = 0 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_SIZE", "size"),
        ["GetMemoryAttributes: size not a page, as the contract says (D17)"] = new((c, ct) => c.Memory.GetMemoryAttributesAsync(new() { Vm = P, Gpa = 0, Size = 1 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_SIZE", "size"),
        ["GetMemoryAttributes: gpa not a page, as the contract says (D17)"] = new((c, ct) => c.Memory.GetMemoryAttributesAsync(new() { Vm = P, Gpa = 1, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ADDRESS", "gpa"),
        ["GetMemoryAttributes: wraps 2^64"] = new((c, ct) => c.Memory.GetMemoryAttributesAsync(new() { Vm = P, Gpa = ulong.MaxValue - Page + 1, Size = 2 * Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "RANGE_OVERFLOW", "size"),
        ["ConvertMemory: no target"] = new((c, ct) => c.Memory.ConvertMemoryAsync(new() { Vm = P, Gpa = 0, Size = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "FIELD_REQUIRED", "target"),
        ["ConvertMemory: outside guest_memfd regions"] = new((c, ct) => c.Memory.ConvertMemoryAsync(new() { Vm = P, Gpa = 200 * MiB, Size = Page, Target = MemoryVisibility.Private }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "RANGE_NOT_PRIVATE_CAPABLE", "gpa"),
        ["ReadGuestMemory: private"] = new((c, ct) => c.Memory.ReadGuestMemoryAsync(new() { Vm = P, Gpa = 16, Size = 16 }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "MEMORY_IS_PRIVATE", "gpa"),
        ["ReadGuestMemory: no memslot (EFAULT)"] = new((c, ct) => c.Memory.ReadGuestMemoryAsync(new() { Vm = P, Gpa = 200 * MiB, Size = 16 }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "GPA_NOT_MAPPED", "gpa", "EFAULT"),
        ["ReadGuestMemory: over 4 MiB"] = new((c, ct) => c.Memory.ReadGuestMemoryAsync(new() { Vm = P, Gpa = Page, Size = (4 * MiB) + 1 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "TRANSFER_TOO_LARGE", "size"),
        ["WriteGuestMemory: nothing"] = new((c, ct) => c.Memory.WriteGuestMemoryAsync(new() { Vm = P, Gpa = Page }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_SIZE", "data"),
        ["WriteGuestMemory: private"] = new((c, ct) => c.Memory.WriteGuestMemoryAsync(new() { Vm = P, Gpa = 0, Data = Google.Protobuf.ByteString.CopyFrom(1, 2, 3) }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "MEMORY_IS_PRIVATE", "gpa"),

        ["LoadGuestProgram: no program"] = new((c, ct) => c.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/p/vcpus/0" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "FIELD_REQUIRED", "program"),
        ["LoadGuestProgram: empty step"] = new((c, ct) => Load(c, ct, Program(Halt(), new GuestStep())), StatusCode.InvalidArgument, "FIELD_REQUIRED", "program.steps[1]"),
        ["LoadGuestProgram: pattern over a byte"] = new((c, ct) => Load(c, ct, Program(new GuestStep { WritePattern = new() { Gpa = Page, Length = 1, Pattern = 256, Intent = AccessIntent.Shared } })), StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "program.steps[0].write_pattern.pattern"),
        ["LoadGuestProgram: intent unspecified"] = new((c, ct) => Load(c, ct, Program(Check(Page, 1, AccessIntent.Unspecified))), StatusCode.InvalidArgument, "FIELD_REQUIRED", "program.steps[0].check_pattern.intent"),
        ["LoadGuestProgram: range wraps"] = new((c, ct) => Load(c, ct, Program(Write(ulong.MaxValue, 1, AccessIntent.Shared, length: 2))), StatusCode.InvalidArgument, "RANGE_OVERFLOW", "program.steps[0].write_pattern.length"),
        ["LoadGuestProgram: no pages"] = new((c, ct) => Load(c, ct, Program(Map(0, 0, true))), StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "program.steps[0].map_gpa_range.pages"),
        ["LoadGuestProgram: 257 steps"] = new((c, ct) => Load(c, ct, Program([.. Enumerable.Repeat(Halt(), 257)])), StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "program.steps"),
        ["LoadGuestProgram: absent vCPU"] = new((c, ct) => c.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/p/vcpus/2", Program = Program(Halt()) }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "VCPU_NOT_FOUND", "index"),
        ["StartVcpu: nothing loaded"] = new((c, ct) => c.Vcpus.StartVcpuAsync(new() { Name = "vms/p/vcpus/0" }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "NO_PROGRAM_LOADED", "index"),
        ["StartVcpu: not a vCPU name"] = new((c, ct) => c.Vcpus.StartVcpuAsync(new() { Name = "vms/p/vcpus/-1" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "name"),
        ["PauseVcpu: not running"] = new((c, ct) => c.Vcpus.PauseVcpuAsync(new() { Name = "vms/p/vcpus/1" }, cancellationToken: ct).ResponseAsync, StatusCode.FailedPrecondition, "VCPU_NOT_RUNNING", "index"),
        ["GetVcpu: absent"] = new((c, ct) => c.Vcpus.GetVcpuAsync(new() { Name = "vms/p/vcpus/9" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "VCPU_NOT_FOUND", "index"),
        ["ListVcpus: absent VM"] = new((c, ct) => c.Vcpus.ListVcpusAsync(new() { Parent = "vms/nope" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND", null),

        ["WatchEvents: not a VM name"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = "p" }), StatusCode.InvalidArgument, "INVALID_NAME", "vm"),
        ["WatchEvents: kind unspecified"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, Filter = new() { Kinds = { EventKind.Unspecified } } }), StatusCode.InvalidArgument, "INVALID_ENUM_VALUE", "filter.kinds"),
        ["WatchEvents: per-VM starts on a one-VM watch"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, StartSequences = { [P] = 1 } }), StatusCode.InvalidArgument, "INVALID_START_SEQUENCES", "start_sequences"),
        ["WatchEvents: per-VM start of not a VM name"] = new((c, ct) => WatchAsync(c, ct, new() { StartSequences = { ["p"] = 1 } }), StatusCode.InvalidArgument, "INVALID_NAME", "start_sequences"),
        ["WatchEvents: bookmark interval under 10 ms"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, ProgressMessages = true, BookmarkInterval = new() { Nanos = 1_000_000 } }), StatusCode.InvalidArgument, "INVALID_BOOKMARK_INTERVAL", "bookmark_interval"),
        ["WatchEvents: negative bookmark interval"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, ProgressMessages = true, BookmarkInterval = new() { Seconds = -1 } }), StatusCode.InvalidArgument, "VALUE_OUT_OF_RANGE", "bookmark_interval"),
        ["WatchEvents: malformed vm_uid"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, VmUid = "p" }), StatusCode.InvalidArgument, "INVALID_VM_UID", "vm_uid"),
        ["WatchEvents: vm_uid on an all-VMs watch"] = new((c, ct) => WatchAsync(c, ct, new() { VmUid = "0b3c5a4e-9a3c-4d1e-8e8e-2f0c6a1b7d90" }), StatusCode.InvalidArgument, "INVALID_VM_UID", "vm_uid"),
        ["WatchEvents: positions on a one-VM watch"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, Positions = { new VmEventPosition { Vm = P, NextSequence = 1 } } }), StatusCode.InvalidArgument, "INVALID_START_SEQUENCES", "positions"),
        ["WatchEvents: position of not a VM name"] = new((c, ct) => WatchAsync(c, ct, new() { Positions = { new VmEventPosition { Vm = "p", NextSequence = 1 } } }), StatusCode.InvalidArgument, "INVALID_NAME", "positions"),
        ["WatchEvents: position with a malformed uid"] = new((c, ct) => WatchAsync(c, ct, new() { Positions = { new VmEventPosition { Vm = P, VmUid = "x", NextSequence = 1 } } }), StatusCode.InvalidArgument, "INVALID_VM_UID", "positions"),
        ["WatchEvents: start past the journal"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = P, StartSequence = 1000 }), StatusCode.OutOfRange, "SEQUENCE_BEYOND_END", "start_sequence"),
        ["WatchEvents: absent VM"] = new((c, ct) => WatchAsync(c, ct, new() { Vm = "vms/nope" }), StatusCode.NotFound, "VM_NOT_FOUND", null),
        ["ListPendingFaults: not a VM name"] = new((c, ct) => c.Events.ListPendingFaultsAsync(new() { Vm = "p/q" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_NAME", "vm"),
        ["ListPendingFaults: absent VM"] = new((c, ct) => c.Events.ListPendingFaultsAsync(new() { Vm = "vms/nope" }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "VM_NOT_FOUND", null),
        ["ListPendingFaults: negative page size"] = new((c, ct) => c.Events.ListPendingFaultsAsync(new() { PageSize = -1 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_PAGE_SIZE", "page_size"),
        ["ListPendingFaults: made-up page token"] = new((c, ct) => c.Events.ListPendingFaultsAsync(new() { PageToken = "bm9wZQ" }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token"),
        ["ResolveFault: malformed vm_uid"] = new((c, ct) => c.Events.ResolveFaultAsync(new() { Vm = P, VmUid = "nope", FaultId = 1, Action = FaultAction.Convert }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "INVALID_VM_UID", "vm_uid"),
        ["ResolveFault: no action"] = new((c, ct) => c.Events.ResolveFaultAsync(new() { Vm = P, FaultId = 1 }, cancellationToken: ct).ResponseAsync, StatusCode.InvalidArgument, "FIELD_REQUIRED", "action"),
        ["ResolveFault: unknown fault"] = new((c, ct) => c.Events.ResolveFaultAsync(new() { Vm = P, FaultId = 9, Action = FaultAction.Convert }, cancellationToken: ct).ResponseAsync, StatusCode.NotFound, "FAULT_NOT_FOUND", "fault_id"),
    };

    private static SetMemoryRegionRequest Gmem(
        uint slot, ulong gpa, ulong size, ulong offset = 0, MemoryRegionFlag? flags = null, SharedBacking backing = SharedBacking.Anonymous, string memfd = "vms/p/guestMemfds/1")
    {
        var request = new SetMemoryRegionRequest { Parent = P, Slot = slot, Gpa = gpa, Size = size, GuestMemfd = memfd, GuestMemfdOffset = offset, SharedBacking = backing };
        request.Flags.Add(MemoryRegionFlag.GuestMemfd);
        if (flags is { } extra)
        {
            request.Flags.Add(extra);
        }

        return request;
    }

    private static Task Load(Clients c, CancellationToken ct, GuestProgram program) =>
        c.Vcpus.LoadGuestProgramAsync(new() { Name = "vms/p/vcpus/0", Program = program }, cancellationToken: ct).ResponseAsync;

    private static async Task WatchAsync(Clients c, CancellationToken ct, WatchEventsRequest request)
    {
        using var call = c.Events.WatchEvents(request, cancellationToken: ct);
        await call.ResponseStream.MoveNext(ct);
    }

    /// <summary>A real token from ListVcpus, replayed on ListGuestMemfds: tokens are bound to their list.</summary>
    private static async Task ForeignTokenAsync(Clients c, CancellationToken ct)
    {
        var vcpus = await c.Vcpus.ListVcpusAsync(new() { Parent = P, PageSize = 1 }, cancellationToken: ct);
        await c.Memory.ListGuestMemfdsAsync(new() { Parent = P, PageToken = vcpus.NextPageToken }, cancellationToken: ct);
    }
}
