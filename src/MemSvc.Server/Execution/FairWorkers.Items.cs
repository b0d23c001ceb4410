namespace MemSvc.Server.Execution;

/// <summary>What <see cref="FairWorkers"/> queues: an owner's queue, and one operation with the task its caller awaits.</summary>
internal sealed partial class FairWorkers
{
    private sealed class OwnerQueue(string owner)
    {
        public string Owner { get; } = owner;

        public LinkedList<WorkItem> Items { get; } = new();

        public LinkedListNode<OwnerQueue>? ReadyNode { get; set; }

        public int Running { get; set; }
    }

    private abstract class WorkItem(string owner, string? vm)
    {
        public string Owner { get; } = owner;

        public string? Vm { get; } = vm;


        public LinkedListNode<WorkItem>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public abstract void Run();

        public abstract void Cancel();

        public abstract void Fail(Exception exception);
    }

    private sealed class WorkItem<T>(string owner, string? vm, Func<T> work) : WorkItem(owner, vm)
    {
        // Continuations run on the thread pool, never on the worker: the worker goes back to the queue at once.
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The caller's context (its Activity, so that Core's spans are children of the RPC's span; its log scopes),
        // which a dedicated thread would not otherwise have.
        private readonly ExecutionContext? _context = ExecutionContext.Capture();

        public Task<T> Task => _result.Task;

        public override void Run()
        {
            Registration.Unregister();
            if (_context is null)
            {
                Execute();
            }
            else
            {
                ExecutionContext.Run(_context, static item => ((WorkItem<T>)item!).Execute(), this);
            }
        }

        private void Execute()
        {
            try
            {
                _result.TrySetResult(work());
            }
            catch (Exception e)
            {
                _result.TrySetException(e);
            }
        }

        public override void Cancel() => _result.TrySetCanceled();

        public override void Fail(Exception exception) => _result.TrySetException(exception);
    }
}
