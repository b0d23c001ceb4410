namespace MemSvc.IntegrationTests.Infrastructure;

/// <summary>Where the repository is, found from the test assembly's folder (bin/... under the clone).</summary>
internal static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    /// <summary>The "prebuilt" Dockerfile target copies the host-published app from here (see .dockerignore).</summary>
    public static string PublishDirectory => Path.Combine(Root, "artifacts", "docker", "app");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MemSvc.sln")) && File.Exists(Path.Combine(directory.FullName, "Dockerfile")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no MemSvc.sln with a Dockerfile above {AppContext.BaseDirectory}");
    }
}
