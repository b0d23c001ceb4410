namespace MemSvc.Cli.Upgrade;

/// <summary>The new MemSvc of <c>memsvcctl daemon upgrade</c> did not take over (exit code 13).</summary>
internal sealed class UpgradeFailedException : Exception
{
    public UpgradeFailedException()
    {
    }

    public UpgradeFailedException(string message)
        : base(message)
    {
    }

    public UpgradeFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
