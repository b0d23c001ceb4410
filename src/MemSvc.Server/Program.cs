using MemSvc.Server.Hosting;

var app = MemSvcServer.Build(args);
await app.RunAsync().ConfigureAwait(false);
