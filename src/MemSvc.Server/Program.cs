using MemSvc.Server.Hosting;

return await StartupExit.RunAsync(args).ConfigureAwait(false);
