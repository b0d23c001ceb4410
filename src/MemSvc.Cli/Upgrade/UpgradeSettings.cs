namespace MemSvc.Cli.Upgrade;

/// <summary>What <c>memsvcctl daemon upgrade</c> was asked to do.</summary>
/// <param name="Server">The new server program (a .dll runs with dotnet); null: the running daemon's own program, which a package upgrade has replaced.</param>
/// <param name="LogFile">Where the new process's output is appended; null: where memsvcctl's goes.</param>
/// <param name="Timeout">How long the new process may take to serve.</param>
internal sealed record UpgradeSettings(string? Server, string? LogFile, TimeSpan Timeout);
