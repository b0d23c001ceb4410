namespace MemSvc.Cli.Infrastructure;

/// <summary>How results are printed.</summary>
internal enum OutputFormat
{
    /// <summary>Aligned text for people.</summary>
    Table,

    /// <summary>The protobuf JSON mapping of the response, for scripts.</summary>
    Json,
}
