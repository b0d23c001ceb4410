using YamlDotNet.RepresentationModel;

namespace MemSvc.Server.Tests.Deployment;

/// <summary>A YAML manifest of deploy/kubernetes, read as a tree, with paths like "spec.template.spec.containers".</summary>
internal sealed class KubernetesManifest(YamlMappingNode root)
{
    public static string Directory { get; } = FindDeployDirectory();

    public YamlMappingNode Root => root;

    public static KubernetesManifest Load(string relativePath)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Directory, relativePath));
        yaml.Load(reader);
        return new KubernetesManifest((YamlMappingNode)yaml.Documents.Single().RootNode);
    }

    public static YamlNode? At(YamlNode? node, string path)
    {
        foreach (var key in path.Split('.'))
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? Text(YamlNode? node, string path) => (At(node, path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Items(YamlNode? node, string path) =>
        (At(node, path) as YamlSequenceNode)?.Children.OfType<YamlMappingNode>() ?? [];

    public static YamlMappingNode Named(YamlNode? node, string path, string name) =>
        Items(node, path).Single(item => Text(item, "name") == name);

    /// <summary>A container's env as name → value (valueFrom entries have a null value).</summary>
    public static Dictionary<string, string?> Env(YamlMappingNode container) =>
        Items(container, "env").ToDictionary(e => Text(e, "name")!, e => Text(e, "value"));

    private static string FindDeployDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "kubernetes");
            if (File.Exists(Path.Combine(candidate, "kustomization.yaml")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("deploy/kubernetes not found above " + AppContext.BaseDirectory);
    }
}
