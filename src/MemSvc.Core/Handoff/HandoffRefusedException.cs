namespace MemSvc.Core.Handoff;

/// <summary>A planned handoff this process cannot make or take; the message says why, for the operator.</summary>
public sealed class HandoffRefusedException : Exception
{
    public HandoffRefusedException()
    {
    }

    public HandoffRefusedException(string message)
        : base(message)
    {
    }

    public HandoffRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
