namespace MemSvc.Cli.Infrastructure;

/// <summary>The operator's input cannot be used (exit code 2); thrown after parsing, where the parser cannot see it.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
