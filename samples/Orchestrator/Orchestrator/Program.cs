using Microsoft.Extensions.Hosting;
using Orchestrator;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOrchestrator(builder.Configuration);
await builder.Build().RunAsync();
