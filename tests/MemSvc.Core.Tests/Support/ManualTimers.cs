namespace MemSvc.Core.Tests.Support;

/// <summary>
/// A clock whose timers fire only when the test says so (<see cref="FireAll"/>): what a watch does "after an
/// interval" is then a step of the test, never a race with the wall clock.
/// </summary>
internal sealed class ManualTimers : TimeProvider
{
    private readonly List<Timer> _timers = [];

    public int Created { get; private set; }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        lock (_timers)
        {
            _timers.Add(timer);
            Created++;
        }

        return timer;
    }

    /// <summary>Runs the callback of every live timer once, on this thread.</summary>
    public void FireAll()
    {
        Timer[] live;
        lock (_timers)
        {
            live = [.. _timers];
        }

        foreach (var timer in live)
        {
            timer.Fire();
        }
    }

    private sealed class Timer(ManualTimers owner, TimerCallback callback, object? state) : ITimer
    {
        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
            lock (owner._timers)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
