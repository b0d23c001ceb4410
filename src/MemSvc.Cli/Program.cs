using MemSvc.Cli;
using MemSvc.Cli.Infrastructure;

return await MemsvcCtl.RunAsync(args, CliEnvironment.FromProcess()).ConfigureAwait(false);
