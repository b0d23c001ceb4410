namespace MemSvc.Server.Connections;

/// <summary>
/// Every descriptor a connection can hold, counted before it exists. <see cref="ConnectionAdmission"/> refuses past
/// the limits, but only once the thread pool runs it: Kestrel's accept loop takes a socket (a descriptor) off the
/// listen backlog as fast as the kernel hands them over and queues the connection for later. On a starved machine
/// a flood then held more accepted-but-unadmitted sockets than the open-file limit allowed, the runtime's next
/// descriptor (an assembly load) failed and the process aborted. With these slots accept itself waits, so the
/// excess stays in the kernel's backlog, where it costs this process nothing.
/// </summary>
internal sealed class AcceptSlots(ConnectionLimits limits, ILogger<AcceptSlots> logger)
{
    private readonly SemaphoreSlim _free = new(limits.Total + limits.RefusalSlots);
    private readonly LogThrottle _throttle = new(TimeSpan.FromSeconds(10));
    private int _capacity = limits.Total + limits.RefusalSlots;

    /// <summary>Connections admitted, those being refused, and one per listener: every one of them holds a slot.</summary>
    public int Capacity => Volatile.Read(ref _capacity);

    /// <summary>Slots not held by an accepted connection now.</summary>
    public int Free => _free.CurrentCount;

    /// <summary>Waits for a free slot; false when <paramref name="stopping"/> ends the wait first.</summary>
    public async ValueTask<bool> TakeAsync(string endpoint, CancellationToken stopping)
    {
        if (_free.Wait(0, CancellationToken.None))
        {
            return true;
        }

        if (_throttle.TryAcquire(out var suppressed))
        {
            ServerLog.AcceptPaused(logger, endpoint, Capacity, suppressed);
        }

        try
        {
            await _free.WaitAsync(stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Give() => _free.Release();

    /// <summary>
    /// One more slot for a new listener. A listener takes its slot before it waits in accept(2), so each idle listener
    /// holds one: without its own, two idle listeners would hold the slots a busy one needs.
    /// </summary>
    public void AddListener()
    {
        Interlocked.Increment(ref _capacity);
        _free.Release();
    }
}
