using MemSvc.Hypervisor;

namespace MemSvc.Server.Hosting;

/// <summary>
/// Wraps each hypervisor the server opens before Core sees it. Nothing in the server registers one: tests do, to
/// make a backend call block the way a real ioctl or fallocate blocks its thread, at a moment the test chooses.
/// </summary>
internal interface IBackendDecorator
{
    IHypervisor Decorate(IHypervisor hypervisor);
}
