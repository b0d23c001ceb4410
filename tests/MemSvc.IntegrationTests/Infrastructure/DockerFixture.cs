namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>All container tests share one image and run one after another (they pause and stop containers).</summary>
[CollectionDefinition(Name)]
public sealed class DockerCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker";
}

/// <summary>
/// Finds the Docker engine and the local base image, then builds the MemSvc image once. When either is missing,
/// every container test skips with the reason; a failing publish or image build fails them instead.
/// </summary>
public sealed class DockerFixture : IAsyncLifetime
{
    /// <summary>Why the container tests cannot run here, or null when they can.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>The image under test.</summary>
    public string Image { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        // Ryuk (Testcontainers' reaper) is an image from Docker Hub; where none can be pulled it cannot start.
        // Every container here is disposed by its test instead. A setting made outside wins.
        if (Environment.GetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED") is null)
        {
            Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
        }

        var cancellationToken = TestContext.Current.CancellationToken;
        using var engine = DockerEngine.FromEnvironment();
        var (version, reason) = await engine.VersionAsync(cancellationToken);
        if (version is null)
        {
            SkipReason = reason;
            return;
        }

        Log.Write($"Docker engine {version} at {engine.Endpoint}");
        // Testcontainers' client speaks a newer API than Debian 12's engine (1.41) accepts unless told which to use.
        if (Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is null && engine.ApiVersion is { } api
            && Version.TryParse(api, out var engineApi) && engineApi < new Version(1, 44))
        {
            Environment.SetEnvironmentVariable("DOCKER_API_VERSION", api);
            Log.Write($"DOCKER_API_VERSION={api} (the engine's own)");
        }

        if (MemSvcImage.Prepared is { } prepared)
        {
            if (!await engine.ImageExistsAsync(prepared, cancellationToken))
            {
                SkipReason = $"MEMSVC_TEST_IMAGE={prepared} does not exist in the Docker engine";
                return;
            }

            Log.Write($"using the prepared image {prepared} (MEMSVC_TEST_IMAGE)");
            Image = prepared;
            return;
        }

        var runtimeBase = MemSvcImage.RuntimeBase;
        if (runtimeBase.StartsWith("memsvc-local/", StringComparison.Ordinal)
            && !await engine.ImageExistsAsync(runtimeBase, cancellationToken))
        {
            SkipReason = $"the local base image {runtimeBase} does not exist: make it with .ci/docker/base-images.sh " +
                         "(debootstrap), or set MEMSVC_RUNTIME_BASE=mcr.microsoft.com/dotnet/runtime-deps:10.0 where a registry is reachable";
            return;
        }

        Image = await MemSvcImage.BuildAsync(cancellationToken);
    }

    /// <summary>Ends the calling test as skipped, with the reason, when the container tests cannot run here.</summary>
    public void SkipIfUnavailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
