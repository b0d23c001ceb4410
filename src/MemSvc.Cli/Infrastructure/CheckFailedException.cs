namespace MemSvc.Cli.Infrastructure;

/// <summary>Everything answered, but what it showed is wrong (exit code 12): the demo's checks.</summary>
internal sealed class CheckFailedException : Exception
{
    public CheckFailedException()
    {
    }

    public CheckFailedException(string message)
        : base(message)
    {
    }

    public CheckFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
