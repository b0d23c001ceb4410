using System.Diagnostics;

namespace MemSvc.LoadDriver.Measure;

/// <summary>Progress lines on stderr, so that stdout holds only the table.</summary>
internal static class Progress
{
    private static readonly long Started = Stopwatch.GetTimestamp();

    public static void Say(string message) =>
        Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(Started).TotalSeconds,6:F1}s] {message}");
}
