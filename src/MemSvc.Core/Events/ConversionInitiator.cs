namespace MemSvc.Core.Events;

/// <summary>Who caused a conversion.</summary>
public enum ConversionInitiator
{
    Unspecified = 0,

    /// <summary>The AUTO fault policy.</summary>
    Auto = 1,

    /// <summary>A ResolveFault call with CONVERT.</summary>
    Orchestrator = 2,

    /// <summary>A ConvertMemory call.</summary>
    Api = 3,

    /// <summary>The VM's timeout fallback, when nobody resolved a fault in time.</summary>
    Fallback = 4,
}
