using MemSvc.Server.Security;

namespace MemSvc.Server.Tests.Security;

/// <summary>The per-owner count of calls executing, alone.</summary>
public sealed class InFlightCounterTests
{
    [Fact]
    public void An_owner_enters_up_to_the_limit_and_no_further_and_other_owners_count_apart()
    {
        var counter = new InFlightCounter(3);

        bool[] entered = [counter.TryEnter("a"), counter.TryEnter("a"), counter.TryEnter("a"), counter.TryEnter("a")];
        var otherOwner = counter.TryEnter("b");

        Assert.Equal([true, true, true, false], entered);
        Assert.True(otherOwner);
        Assert.Equal((3, 1, 2), (counter.CountOf("a"), counter.CountOf("b"), counter.OwnersInFlight));
    }

    [Fact]
    public void Exiting_frees_one_slot_and_an_owner_with_none_left_is_forgotten()
    {
        var counter = new InFlightCounter(2);
        counter.TryEnter("a");
        counter.TryEnter("a");

        counter.Exit("a");
        var reentered = counter.TryEnter("a");
        var overLimit = counter.TryEnter("a");
        counter.Exit("a");
        counter.Exit("a");

        Assert.Equal((true, false), (reentered, overLimit));
        Assert.Equal((0, 0), (counter.CountOf("a"), counter.OwnersInFlight));
    }

    [Fact]
    public void Owners_are_compared_exactly()
    {
        var counter = new InFlightCounter(1);

        var upper = counter.TryEnter("Team");
        var lower = counter.TryEnter("team");

        Assert.Equal((true, true), (upper, lower));
    }

    [Fact]
    public void An_exit_without_an_enter_is_a_bug_and_throws()
    {
        var counter = new InFlightCounter(1);
        counter.TryEnter("a");
        counter.Exit("a");

        var e = Assert.Throws<InvalidOperationException>(() => counter.Exit("a"));

        Assert.Equal("owner 'a' has no call in flight to exit", e.Message);
        Assert.True(counter.TryEnter("a"));
    }

    [Fact]
    public void A_limit_below_1_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InFlightCounter(0));
    }

    [Fact]
    public async Task Concurrent_enters_and_exits_never_let_an_owner_past_the_limit_and_leave_nothing_behind()
    {
        const int limit = 4;
        var counter = new InFlightCounter(limit);
        var holding = 0;
        var mostHeld = 0;

        // Twice as many workers as slots, so that refusals and re-entries interleave; whatever the interleaving, the
        // number holding a slot at any moment must stay within the limit.
        var workers = Enumerable.Range(0, 2 * limit).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                if (!counter.TryEnter("a"))
                {
                    continue;
                }

                var now = Interlocked.Increment(ref holding);
                InterlockedMax(ref mostHeld, now);
                Interlocked.Decrement(ref holding);
                counter.Exit("a");
            }
        }));
        await Task.WhenAll(workers).WaitAsync(TestContext.Current.CancellationToken);

        Assert.InRange(mostHeld, 1, limit);
        Assert.Equal((0, 0), (counter.CountOf("a"), counter.OwnersInFlight));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
