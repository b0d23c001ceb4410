namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// Progress lines that reach the console of `dotnet test` (xunit diagnostic messages, enabled in
/// xunit.runner.json) and the test's own output, so that a CI log shows which container ran what.
/// </summary>
internal static class Log
{
    public static void Write(string message)
    {
        var line = $"[memsvc-it {DateTime.UtcNow:HH:mm:ss.fff}] {message}";
        TestContext.Current.SendDiagnosticMessage(line);
        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }
}
