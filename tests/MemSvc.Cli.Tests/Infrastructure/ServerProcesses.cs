namespace MemSvc.Cli.Tests.Infrastructure;

/// <summary>
/// Tests that start server processes run alone: they load the 2 cores that the in-process tests' timings rely on
/// (the demo's narration counted 5 resolutions of 6 once beside them).
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class ServerProcesses;
