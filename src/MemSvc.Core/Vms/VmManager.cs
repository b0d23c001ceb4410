using MemSvc.Core.Backends;
using MemSvc.Core.Events;
using MemSvc.Core.Memory;
using MemSvc.Core.Options;
using MemSvc.Core.Vcpus;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemSvc.Core.Vms;

/// <summary>
/// The VMM. One property per API area, mirroring the gRPC services so that the server maps them one to one:
/// <see cref="Vms"/> (VmService), <see cref="GuestMemfds"/>, <see cref="MemoryRegions"/> and <see cref="Memory"/>
/// (GuestMemoryService), <see cref="Vcpus"/> (VcpuService), <see cref="Events"/> (EventService), and
/// <see cref="GetHostInfo"/> (HostService). Disposing stops every vCPU, ends every watch and disposes the VMs.
/// </summary>
public sealed partial class VmManager : IAsyncDisposable
{
    private readonly CoreContext _context;
    private int _disposed;

    /// <param name="backends">The hypervisors VMs may run on, and the default.</param>
    /// <param name="options">Limits, quotas and timeouts; defaults when null.</param>
    /// <param name="loggerFactory">Where Core's log messages (category "MemSvc.Core") go; none when null.</param>
    public VmManager(BackendCatalog backends, CoreOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        options ??= new CoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.JournalCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.JournalRetentionFloor, 1);
        _context = new CoreContext(backends, options, loggerFactory ?? NullLoggerFactory.Instance);
        // A manager taking over reads the directory once the process handing off has gone (CompleteTakeover).
        if (_context.Journals is { } journals && !options.TakingOver)
        {
            try
            {
                JournalRecovery.Run(_context, journals);
            }
            catch
            {
                // The writer thread and the directory's lock go with the manager that will never be.
                _context.Dispose();
                throw;
            }
        }

        Vms = new VmOperations(_context);
        GuestMemfds = new GuestMemfdOperations(_context);
        MemoryRegions = new MemoryRegionOperations(_context);
        Memory = new GuestMemoryOperations(_context);
        Vcpus = new VcpuOperations(_context);
        Events = new EventOperations(_context);
    }

    public VmOperations Vms { get; }

    public GuestMemfdOperations GuestMemfds { get; }

    public MemoryRegionOperations MemoryRegions { get; }

    public GuestMemoryOperations Memory { get; }

    public VcpuOperations Vcpus { get; }

    public EventOperations Events { get; }

    public CoreOptions Options => _context.Options;

    /// <summary>The backends, the default, and every capability each probed at start-up.</summary>
    public HostInfo GetHostInfo() => _context.Backends.GetHostInfo();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        var vms = _context.Registry.Close();
        var timeout = _context.Options.VcpuStopTimeout;
        await Task.WhenAll(vms.Select(vm => Task.Run(() => vm.Shutdown(timeout)))).ConfigureAwait(false);

        // Stopped, not handed off: the VMs end with this process, and the next one reports them lost, saying it was a
        // stop. (A process that hands off exits without coming here: its VMs live on in the next one.)
        var stoppedAt = _context.Options.TimeProvider.GetUtcNow();
        foreach (var vm in vms)
        {
            vm.Journal.CloseFile(stoppedAt);
        }

        _context.SignalShutdown();
        _context.Dispose();
    }
}
