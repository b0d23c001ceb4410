namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// The gate of the fairness suite's burst: its callers enter before each call and exit after it, so that the burst
/// can be paused (and its calls in flight drained) for an idle phase, resumed for a loaded one, and stopped.
/// </summary>
internal sealed class Burst
{
    private readonly Lock _lock = new();
    private readonly int[] _outcomes = new int[3];
    private TaskCompletionSource _open = Opened();
    private TaskCompletionSource? _drained;
    private int _inFlight;
    private bool _stopped;

    public enum Outcome
    {
        Ok,
        Failed,
        ToldToWait,
    }

    /// <summary>How many calls ended <paramref name="outcome"/>.</summary>
    public int Count(Outcome outcome) => Volatile.Read(ref _outcomes[(int)outcome]);

    /// <summary>Waits while the burst is paused; false once it is stopped.</summary>
    public async Task<bool> EnterAsync()
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_stopped)
                {
                    return false;
                }

                if (_open.Task.IsCompleted)
                {
                    _inFlight++;
                    return true;
                }

                wait = _open.Task;
            }

            await wait.ConfigureAwait(false);
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            if (--_inFlight == 0)
            {
                _drained?.TrySetResult();
                _drained = null;
            }
        }
    }

    public void Add(Outcome outcome) => Interlocked.Increment(ref _outcomes[(int)outcome]);

    /// <summary>Holds new calls back; completes when the calls in flight have all returned.</summary>
    public Task PauseAsync()
    {
        lock (_lock)
        {
            if (_open.Task.IsCompleted)
            {
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    public void Resume()
    {
        lock (_lock)
        {
            _open.TrySetResult();
        }
    }

    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
            _open.TrySetResult();
        }
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
