namespace MemSvc.LoadDriver.Hosting;

/// <summary>How the driver reaches the server: the Unix socket (the daemon's real interface) or loopback TCP.</summary>
internal enum Transport
{
    Uds,
    Tcp,
}
