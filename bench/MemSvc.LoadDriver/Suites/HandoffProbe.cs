using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using MemSvc.Contracts.V1;
using MemSvc.LoadDriver.Measure;

namespace MemSvc.LoadDriver.Suites;

/// <summary>
/// One VM whose vCPU runs a steady program through the handoffs, and a client watching it. The program writes
/// <see cref="WriteBytes"/> (shared, no fault) then reports a counter, 126 times, and is started again whenever it
/// halts; the report events' server times show the vCPU's pause as the guest sees it (the gap between the two
/// reports around the handoff's freeze, less one ordinary write), and the watcher's receive times the gap a client sees across its reconnect (it sends
/// the watch again 1 ms after a break, from the sequence after the last event it has).
/// </summary>
internal sealed class HandoffProbe(string vm)
{
    public const ulong WriteBytes = 8 << 20;
    private const int Reports = 126;

    private readonly List<(Event Event, long Received)> _events = [];
    private readonly List<long> _breaks = [];

    public string Vm { get; } = vm;

    public static GuestProgram Program()
    {
        var program = new GuestProgram();
        for (uint i = 0; i < Reports; i++)
        {
            program.Steps.Add(new GuestStep { WritePattern = new WritePatternStep { Gpa = 0, Length = WriteBytes, Pattern = (i % 250) + 1, Intent = AccessIntent.Shared } });
            program.Steps.Add(new GuestStep { Report = new ReportStep { Value = i } });
        }

        program.Steps.Add(new GuestStep { Halt = new HaltStep() });
        return program;
    }

    public Task RunAsync(GrpcChannel watchChannel, GrpcChannel runChannel, CancellationToken stop) =>
        Task.WhenAll(Task.Run(() => WatchAsync(new EventService.EventServiceClient(watchChannel), stop), CancellationToken.None), Task.Run(() => KeepRunningAsync(new VcpuService.VcpuServiceClient(runChannel), stop), CancellationToken.None));

    /// <summary>
    /// The pause a guest saw over a handoff that stopped its vCPU from <paramref name="frozenAt"/> to
    /// <paramref name="thawedAt"/> (server times): the longest gap between two consecutive reports of one program
    /// over that time, less the median gap of the window [from, to] (receive times), or null when the program was not running
    /// then (it had halted, and waited to be started again).
    /// </summary>
    public double? PauseMicros(long from, long to, DateTime frozenAt, DateTime thawedAt)
    {
        var gaps = new List<double>();
        double? over = null;
        lock (_events)
        {
            var window = _events.Where(e => e.Received >= from && e.Received <= to).Select(e => e.Event).ToList();
            for (var i = 1; i < window.Count; i++)
            {
                var (a, b) = (window[i - 1], window[i]);
                if (a.PayloadCase == Event.PayloadOneofCase.GuestReport && b.PayloadCase == Event.PayloadOneofCase.GuestReport
                    && b.Sequence == a.Sequence + 1 && b.GuestReport.Value == a.GuestReport.Value + 1)
                {
                    var (start, end) = (a.Time.ToDateTime(), b.Time.ToDateTime());
                    gaps.Add((end - start).TotalMicroseconds);
                    // Reports of a vCPU thawed before the new server took its time may fall inside; the pause is the longest.
                    if (start <= thawedAt && end >= frozenAt)
                    {
                        over = Math.Max(over ?? 0, (end - start).TotalMicroseconds);
                    }
                }
            }
        }

        if (over is not { } gap || gaps.Count < 3)
        {
            return null;
        }

        gaps.Sort();
        return Math.Max(0, gap - gaps[gaps.Count / 2]);
    }

    /// <summary>From the last event received before the first break in [from, to] to the first received after it.</summary>
    public double? WatchGapMicros(long from, long to)
    {
        lock (_events)
        {
            var broke = _breaks.Where(b => b >= from && b <= to).Cast<long?>().FirstOrDefault();
            if (broke is not { } at)
            {
                return null;
            }

            var before = _events.LastOrDefault(e => e.Received <= at);
            var after = _events.FirstOrDefault(e => e.Received > at);
            return before.Event is null || after.Event is null ? null : Stopwatch.GetElapsedTime(before.Received, after.Received).TotalMicroseconds;
        }
    }

    private async Task WatchAsync(EventService.EventServiceClient events, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ulong from;
            lock (_events)
            {
                from = _events.Count == 0 ? 1 : _events[^1].Event.Sequence + 1;
            }

            try
            {
                using var call = events.WatchEvents(new WatchEventsRequest { Vm = Vm, StartSequence = from }, cancellationToken: stop);
                while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
                {
                    var received = Stopwatch.GetTimestamp();
                    lock (_events)
                    {
                        _events.Add((call.ResponseStream.Current.Event, received));
                    }
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && !stop.IsCancellationRequested)
            {
                lock (_events)
                {
                    _breaks.Add(Stopwatch.GetTimestamp());
                }

                await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when ((e is RpcException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // Starts the program again whenever it halted; calls refused during a handoff are simply made again later.
    private async Task KeepRunningAsync(VcpuService.VcpuServiceClient vcpus, CancellationToken stop)
    {
        var name = Vm + "/vcpus/0";
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var state = (await vcpus.GetVcpuAsync(new GetVcpuRequest { Name = name }, cancellationToken: stop).ConfigureAwait(false)).Vcpu.State;
                if (state is VcpuState.Halted or VcpuState.Idle or VcpuState.Ready)
                {
                    await vcpus.LoadGuestProgramAsync(new LoadGuestProgramRequest { Name = name, Program = Program() }, cancellationToken: stop).ConfigureAwait(false);
                    await vcpus.StartVcpuAsync(new StartVcpuRequest { Name = name }, cancellationToken: stop).ConfigureAwait(false);
                }
                else if (state == VcpuState.Failed)
                {
                    throw new InvalidOperationException($"the probe vCPU of {Vm} failed");
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // A handoff: the next server answers in a moment.
            }
            catch (Exception e) when ((e is RpcException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                return;
            }

            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
