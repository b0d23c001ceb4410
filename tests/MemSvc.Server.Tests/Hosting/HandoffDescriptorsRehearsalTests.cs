using MemSvc.Server.Handoff;

namespace MemSvc.Server.Tests.Hosting;

/// <summary>
/// The descriptor frames' rehearsal, which a server plays before its first handoff (and a new process before its
/// hello): it must leave no descriptor open. It counts the whole process's descriptors, so it runs beside no other
/// test (<see cref="FdTableCollection"/>).
/// </summary>
[Collection(nameof(FdTableCollection))]
public sealed class HandoffDescriptorsRehearsalTests
{
    [Fact]
    public void Twenty_rehearsals_leave_no_descriptor_open()
    {
        HandoffDescriptors.Rehearse();
        var before = OpenDescriptors();

        for (var i = 0; i < 20; i++)
        {
            HandoffDescriptors.Rehearse();
        }

        // Each play opens four (a listener, both ends, the descriptor received) and must close all of them.
        Assert.Equal(before, OpenDescriptors());
    }

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;
}

/// <summary>Tests that count the process's open descriptors: they run one at a time and beside no other test.</summary>
[CollectionDefinition(nameof(FdTableCollection), DisableParallelization = true)]
public sealed class FdTableCollection
{
}
