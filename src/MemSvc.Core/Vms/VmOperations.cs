using System.Globalization;
using MemSvc.Core.Errors;
using MemSvc.Core.Faults;
using MemSvc.Core.Identity;
using MemSvc.Core.Logging;
using MemSvc.Core.Telemetry;
using MemSvc.Hypervisor;

namespace MemSvc.Core.Vms;

/// <summary>VmService: CreateVm, GetVm, ListVms, DeleteVm.</summary>
public sealed class VmOperations
{
    // KVM_CAP_EXIT_HYPERCALL bit for KVM_HC_MAP_GPA_RANGE (12): conversion requests exit to Core.
    private const ulong MapGpaRangeExitBit = 1UL << 12;

    private readonly CoreContext _context;

    internal VmOperations(CoreContext context)
    {
        _context = context;
    }

    public VmInfo CreateVm(CallerIdentity caller, CreateVmRequest request)
    {
        CallerIdentity.Validate(caller);
        ArgumentNullException.ThrowIfNull(request);
        var generated = string.IsNullOrEmpty(request.VmId);
        if (!generated)
        {
            VmIds.Validate(request.VmId!);
        }

        var (backendName, hypervisor) = _context.Backends.Resolve(request.Backend);
        var settings = Settle(caller, request, backendName, hypervisor.Capabilities);
        var vmId = ReserveId(caller, generated ? null : request.VmId);
        settings = settings with { VmId = vmId };

        ManagedVm vm;
        try
        {
            using var activity = CoreActivities.Start("memsvc.core.create_vm", vmId);
            vm = CreateBackendVm(hypervisor, settings, request.VcpuCount);
        }
        catch
        {
            _context.Registry.Unreserve(vmId, caller.Identity);
            throw;
        }

        if (!_context.Registry.Commit(vm))
        {
            vm.Shutdown(_context.Options.VcpuStopTimeout);
            vm.Journal.DeleteFile();
            throw CoreErrors.ShuttingDown();
        }

        CoreLog.VmCreated(_context.Logger, vm.Id, vm.Owner, vm.Settings.Backend, vm.Settings.VmType, request.VcpuCount, vm.FaultPolicy);
        return vm.ToInfo();
    }

    public VmInfo GetVm(CallerIdentity caller, string vmId) => _context.Find(caller, vmId).ToInfo();

    /// <summary>The caller's VMs (all VMs for an admin) in id order, a page at a time.</summary>
    public VmPage ListVms(CallerIdentity caller, int pageSize = 0, string? pageToken = null)
    {
        CallerIdentity.Validate(caller);
        if (pageSize < 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidPageSize, "page_size", "page_size must not be negative");
        }

        var size = pageSize == 0 ? _context.Options.DefaultPageSize : Math.Min(pageSize, _context.Options.MaxPageSize);
        var after = PageTokens.Decode(pageToken);

        // One more than the page tells whether another page follows without a second pass.
        var vms = _context.Registry.Page(caller, after, size + 1);
        var page = vms.Take(size).Select(v => v.ToInfo()).ToList();
        var next = vms.Count > size ? PageTokens.Encode(vms[size - 1].Key) : string.Empty;
        return new VmPage(page, next);
    }

    /// <summary>
    /// Stops the VM's vCPUs, ends its watches, closes its guest_memfd files, disposes the backend VM and removes its
    /// journal file. A name no VM holds but a lost VM had frees that lost VM's journal (every lost one of the name).
    /// </summary>
    public void DeleteVm(CallerIdentity caller, string vmId)
    {
        CallerIdentity.Validate(caller);
        ManagedVm vm;
        try
        {
            vm = _context.Registry.Remove(caller, vmId ?? string.Empty);
        }
        catch (CoreException e) when (e.Reason == ErrorReasons.VmNotFound && _context.Lost.DeleteAll(caller, vmId ?? string.Empty))
        {
            return;
        }

        using var activity = CoreActivities.Start("memsvc.core.delete_vm", vm.Id);
        vm.Shutdown(_context.Options.VcpuStopTimeout);
        vm.Journal.DeleteFile();
        CoreLog.VmDeleted(_context.Logger, vm.Id, vm.Owner, vm.Settings.Backend);
    }

    private VmSettings Settle(CallerIdentity caller, CreateVmRequest request, string backend, HypervisorCapabilities capabilities)
    {
        if (!capabilities.VmTypes.Contains(request.VmType))
        {
            throw new CoreException(
                ErrorKind.FailedPrecondition,
                ErrorReasons.VmTypeUnsupported,
                $"backend '{backend}' does not support vm type {request.VmType} (it supports {string.Join(", ", capabilities.VmTypes)}); the simulated backend with host profile 'default' has every type",
                "vm_type",
                new Dictionary<string, string> { ["backend"] = backend, ["vm_type"] = request.VmType.ToString() });
        }

        if (request.VcpuCount < 1 || request.VcpuCount > capabilities.MaxVcpus)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidVcpuCount, "vcpu_count", $"vcpu_count must be 1..{capabilities.MaxVcpus} on backend '{backend}', not {request.VcpuCount}");
        }

        var quota = _context.Options.Quotas.MaxVcpusPerVm;
        if (request.VcpuCount > quota)
        {
            throw CoreErrors.QuotaExceeded("max_vcpus_per_vm", (ulong)quota, (ulong)request.VcpuCount);
        }

        var policy = request.FaultPolicy == FaultPolicy.Unspecified ? FaultPolicy.Auto : request.FaultPolicy;
        if (!Enum.IsDefined(policy))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidFaultPolicy, "fault_policy", "fault_policy must be AUTO or ORCHESTRATOR");
        }

        var timeout = request.ResolutionTimeout == TimeSpan.Zero ? _context.Options.DefaultResolutionTimeout : request.ResolutionTimeout;
        if (timeout < TimeSpan.FromMilliseconds(1) || timeout > _context.Options.MaxResolutionTimeout)
        {
            throw CoreException.InvalidArgument(
                ErrorReasons.InvalidResolutionTimeout,
                "resolution_timeout",
                $"resolution_timeout must be between 1 ms and {_context.Options.MaxResolutionTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }

        var fallback = request.TimeoutFallback == FaultAction.Unspecified ? FaultAction.Fail : request.TimeoutFallback;
        if (!Enum.IsDefined(fallback))
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidFallbackAction, "timeout_fallback", "timeout_fallback must be CONVERT, RETRY or FAIL");
        }

        // AIP-148's uid: a UUID4, so that incarnations of one name never compare equal across deletes or restarts.
        return new VmSettings(string.Empty, Guid.NewGuid().ToString("D"), caller.Identity, backend, request.VmType, policy, timeout, fallback, _context.Options.TimeProvider.GetUtcNow());
    }

    private string ReserveId(CallerIdentity caller, string? wanted)
    {
        var maxVms = _context.Options.Quotas.MaxVmsPerOwner;
        if (wanted is not null)
        {
            _context.Registry.Reserve(wanted, caller.Identity, maxVms);
            return wanted;
        }

        // 32 random bits collide rarely (and only with the caller's own names); a few draws make a failure from collisions practically impossible.
        for (var attempt = 0; ; attempt++)
        {
            var id = VmIds.Generate();
            try
            {
                _context.Registry.Reserve(id, caller.Identity, maxVms);
                return id;
            }
            catch (CoreException e) when (e.Kind == ErrorKind.AlreadyExists && attempt < 8)
            {
            }
        }
    }

    private ManagedVm CreateBackendVm(IHypervisor hypervisor, VmSettings settings, int vcpuCount)
    {
        var backendVm = hypervisor.CreateVm(settings.VmType);
        var vm = new ManagedVm(settings, backendVm, _context.Metrics, _context.Logger, _context.Options.JournalCapacity, _context.Options.TimeProvider, _context.Ledger, _context.JournalBudgetOf(settings.Owner), _context.Journals);
        try
        {
            vm.CreateVcpus(vcpuCount);
            if ((backendVm.Capabilities.ExitHypercallMask & MapGpaRangeExitBit) != 0)
            {
                backendVm.EnableExitHypercall(MapGpaRangeExitBit);
            }
        }
        catch
        {
            vm.Shutdown(_context.Options.VcpuStopTimeout);
            vm.Journal.DeleteFile();
            throw;
        }

        return vm;
    }
}
