namespace MemSvc.Server.Handoff;

/// <summary>Where a server listens for a planned handoff: beside its Unix socket, so that the socket's directory decides who may reach it.</summary>
internal static class HandoffPaths
{
    public static string For(string socketPath) => socketPath + ".handoff";
}
