namespace MemSvc.Cli.Infrastructure;

/// <summary>Whether output uses ANSI colours.</summary>
internal enum ColorMode
{
    /// <summary>Colours when writing to a terminal that is not "dumb" and NO_COLOR is unset.</summary>
    Auto,
    Always,
    Never,
}
