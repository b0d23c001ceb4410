namespace MemSvc.Server.Tests.HostileLoad;

/// <summary>
/// The probe of 2026-12-04 as tests: floods, starvation, frozen and hostile clients. They run one at a time and
/// beside no other test, because each one loads the machine on purpose (two shared cores), and what one test's
/// flood does to the thread pool or the fd table must not be read as another test's result. Every loop in them is
/// bounded in count and in time; traffic goes to 127.0.0.1 and Unix sockets only.
/// </summary>
[CollectionDefinition(nameof(HostileLoadCollection), DisableParallelization = true)]
public sealed class HostileLoadCollection
{
}
