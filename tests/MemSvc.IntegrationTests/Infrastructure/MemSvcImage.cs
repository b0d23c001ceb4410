using System.Diagnostics;
using DotNet.Testcontainers.Builders;

namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>
/// The MemSvc image under test, made once per test run from the repository's Dockerfile.
///
/// Its "prebuilt" target is used: the app is published on the host (where NuGet is reachable), then copied
/// onto the local runtime base. The default target restores and builds inside Microsoft's SDK image, which
/// needs a registry and network access from the build container, neither of which this machine or CI has.
/// MEMSVC_TEST_IMAGE names an image that is already built (for example by `docker build -t memsvc .` on a
/// machine with a registry) and skips the build.
/// </summary>
internal static class MemSvcImage
{
    public const string DefaultRuntimeBase = "memsvc-local/runtime-deps:bookworm";
    public const string TestImage = "memsvc:integration-test";

    public static string RuntimeBase =>
        Environment.GetEnvironmentVariable("MEMSVC_RUNTIME_BASE") is { Length: > 0 } configured ? configured : DefaultRuntimeBase;

    public static string? Prepared =>
        Environment.GetEnvironmentVariable("MEMSVC_TEST_IMAGE") is { Length: > 0 } prepared ? prepared : null;

    public static async Task<string> BuildAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        if (Directory.Exists(RepositoryLayout.PublishDirectory))
        {
            // Files of a previous publish that this one no longer makes must not reach the image.
            Directory.Delete(RepositoryLayout.PublishDirectory, recursive: true);
        }

        await PublishAsync("src/MemSvc.Server/MemSvc.Server.csproj", cancellationToken);
        await PublishAsync("deploy/MemSvc.HealthProbe/MemSvc.HealthProbe.csproj", cancellationToken);
        Log.Write($"published the server and the health probe to {RepositoryLayout.PublishDirectory} in {started.Elapsed.TotalSeconds:F0} s");

        started.Restart();
        var image = new ImageFromDockerfileBuilder()
            .WithName(TestImage)
            .WithDockerfileDirectory(RepositoryLayout.Root)
            .WithDockerfile("Dockerfile")
            .WithTarget("prebuilt")
            .WithBuildArgument("RUNTIME_IMAGE", RuntimeBase)
            // The prebuilt target never reaches the SDK stage, but Testcontainers pulls every FROM image of the
            // Dockerfile that the engine lacks (with build arguments substituted) before it builds: name one
            // that is there rather than the registry default.
            .WithBuildArgument("SDK_IMAGE", RuntimeBase)
            .WithBuildArgument("VERSION", "0.0.0-integration-test")
            .WithBuildArgument("CREATED", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture))
            .WithDeleteIfExists(false)
            .WithCleanUp(false)
            .Build();
        await image.CreateAsync(cancellationToken);
        Log.Write($"built image {image.FullName} (Dockerfile target prebuilt, RUNTIME_IMAGE={RuntimeBase}) in {started.Elapsed.TotalSeconds:F0} s");
        return image.FullName;
    }

    private static async Task PublishAsync(string project, CancellationToken cancellationToken)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = RepositoryLayout.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Self-contained: the runtime base carries no .NET; both programs share one folder and its runtime.
        foreach (var argument in new[]
                 {
                     "publish", project, "-c", "Release", "-r", "linux-x64", "--self-contained",
                     "-o", RepositoryLayout.PublishDirectory, "-nologo", "-v", "quiet",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {dotnet}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"dotnet publish {project} failed ({process.ExitCode}):\n{await output}\n{await error}");
        }
    }
}
