using System.Globalization;
using System.Reflection;
using MemSvc.Server.Hosting;
using MemSvc.Server.Security;
using YamlDotNet.RepresentationModel;
using static MemSvc.Server.Tests.Deployment.KubernetesManifest;

namespace MemSvc.Server.Tests.Deployment;

/// <summary>
/// deploy/kubernetes read against the server it deploys: every setting it gives exists, the ports, paths, users
/// and groups agree between containers, probes, volumes and the server's options, the memory limit covers the
/// guest memory quota, and the mTLS component is complete. No cluster is needed; these are the fields the server
/// depends on, checked on every build.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const long ServiceOverheadBytes = 1L << 30;

    private static readonly YamlMappingNode DaemonSet = Load("daemonset.yaml").Root;
    private static readonly YamlMappingNode Pod = (YamlMappingNode)At(DaemonSet, "spec.template.spec")!;
    private static readonly YamlMappingNode Server = Named(Pod, "containers", "memsvc");
    private static readonly YamlMappingNode MtlsPatch = Load("components/mtls/daemonset-mtls.yaml").Root;

    [Fact]
    public void Every_MemSvc_setting_in_the_manifests_is_one_the_server_binds()
    {
        var known = SettingPaths();
        var env = Env(Server).Keys.Concat(Env(Named(At(MtlsPatch, "spec.template.spec"), "containers", "memsvc")).Keys);

        var unknown = env.Where(n => n.StartsWith("MemSvc__", StringComparison.Ordinal) && !known.Contains(n.Replace("__", ":", StringComparison.Ordinal)));

        Assert.Empty(unknown);
    }

    [Fact]
    public void The_base_opens_no_plaintext_port_but_health_and_asks_for_kvm_explicitly()
    {
        var env = Env(Server);
        Assert.DoesNotContain("MemSvc__LoopbackPort", env.Keys);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("MemSvc__Tls__", StringComparison.Ordinal));
        Assert.Equal("kvm", env["MemSvc__DefaultBackend"]);
        Assert.Equal(["health"], Items(Server, "ports").Select(p => Text(p, "name")));
    }

    [Fact]
    public void Probes_use_the_health_port_and_there_is_no_liveness_probe()
    {
        var health = Env(Server)["MemSvc__HealthPort"];
        Assert.Equal(health, Text(Named(Server, "ports", "health"), "containerPort"));
        Assert.Equal(health, Text(Server, "startupProbe.grpc.port"));
        Assert.Equal(health, Text(Server, "readinessProbe.grpc.port"));
        Assert.Null(At(Server, "livenessProbe"));
    }

    [Fact]
    public void The_socket_directory_is_the_node_path_the_init_container_gives_to_the_servers_user()
    {
        var socketDirectory = Path.GetDirectoryName(Env(Server)["MemSvc__SocketPath"]);
        var mount = Items(Server, "volumeMounts").Single(m => Text(m, "mountPath") == socketDirectory);
        var volume = Named(Pod, "volumes", Text(mount, "name")!);
        Assert.Equal("/run/memsvc", Text(volume, "hostPath.path"));

        var init = Named(Pod, "initContainers", "socket-directory");
        Assert.Contains(Items(init, "volumeMounts"), m => Text(m, "name") == Text(mount, "name") && Text(m, "mountPath") == socketDirectory);
        var (uid, gid) = (Text(Pod, "securityContext.runAsUser"), Text(Pod, "securityContext.runAsGroup"));
        var script = string.Join(' ', ((YamlSequenceNode)At(init, "command")!).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Contains($"chown {uid}:{gid} {socketDirectory}", script, StringComparison.Ordinal);
        Assert.Contains($"chmod 0750 {socketDirectory}", script, StringComparison.Ordinal);
        Assert.Equal(["CHOWN"], ((YamlSequenceNode)At(init, "securityContext.capabilities.add")!).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal(gid, Env(Server)["MemSvc__SocketGroup"]);
    }

    [Fact]
    public void A_rolling_update_surges_one_pod_that_takes_over_the_old_ones_socket_and_never_leaves_a_node_without_one()
    {
        Assert.Equal("RollingUpdate", Text(DaemonSet, "spec.updateStrategy.type"));
        Assert.Equal("1", Text(DaemonSet, "spec.updateStrategy.rollingUpdate.maxSurge"));
        Assert.Equal("0", Text(DaemonSet, "spec.updateStrategy.rollingUpdate.maxUnavailable"));

        // The image's entrypoint, run by the script; the script looks for the handoff socket beside the socket
        // the server is given, in the directory both pods mount from the node.
        var command = EntrypointProcess.Command;
        Assert.Equal(["/bin/sh", "-c"], command.Take(2));
        Assert.Equal(["memsvc-entrypoint", "/app/MemSvc.Server"], command.Skip(3));
        Assert.Contains("ENTRYPOINT [\"/app/MemSvc.Server\"]", File.ReadAllText(Path.Combine(KubernetesManifest.Directory, "..", "..", "Dockerfile")), StringComparison.Ordinal);
        Assert.Contains("[ -S \"${MemSvc__SocketPath}.handoff\" ]", command[2], StringComparison.Ordinal);
        Assert.Contains("--MemSvc:Handoff:TakeOver=true", command[2], StringComparison.Ordinal);
        Assert.Equal("/run/memsvc", Text(Named(Pod, "volumes", "socket"), "hostPath.path"));
        Assert.Equal("/run/memsvc/memsvc.sock", Env(Server)["MemSvc__SocketPath"]);

        // Both pods run at once on a node: each needs its own kvm device, and no host port may clash.
        Assert.Equal("1", ((YamlScalarNode)((YamlMappingNode)At(Server, "resources.limits")!).Children[new YamlScalarNode("devices.kubevirt.io/kvm")]).Value);
        Assert.DoesNotContain(Items(Server, "ports"), p => At(p, "hostPort") is not null);
        Assert.Null(At(Pod, "hostNetwork"));
    }

    [Fact]
    public void The_memory_limit_covers_the_guest_memory_quota_and_the_service()
    {
        var limit = Quantity(Text(Server, "resources.limits.memory")!);
        var quota = long.Parse(Env(Server)["MemSvc__Quotas__MaxGuestMemoryBytesPerOwner"]!, CultureInfo.InvariantCulture);

        Assert.Equal(limit, quota + ServiceOverheadBytes);
    }

    [Fact]
    public void The_host_memory_cap_under_the_pods_limit_is_the_guest_memory_quota()
    {
        // The cgroup's memory.max is the pod's limit, so the cap is 1.0 × limit − the reserve: one owner may use
        // its whole quota, and owners together no more than the pod holds.
        var limit = Quantity(Text(Server, "resources.limits.memory")!);
        var quota = long.Parse(Env(Server)["MemSvc__Quotas__MaxGuestMemoryBytesPerOwner"]!, CultureInfo.InvariantCulture);
        var defaults = new MemSvc.Core.Options.HostMemoryOptions();

        Assert.DoesNotContain(Env(Server).Keys, k => k.StartsWith("MemSvc__HostMemory__", StringComparison.Ordinal));
        Assert.Equal((1.0, quota), (defaults.OvercommitRatio, limit - (long)defaults.ReservedBytes));
    }

    [Fact]
    public void The_mtls_component_serves_the_secrets_files_and_requires_the_secret()
    {
        var container = Named(At(MtlsPatch, "spec.template.spec"), "containers", "memsvc");
        var env = Env(container);
        var mount = Text(Items(container, "volumeMounts").Single(m => Text(m, "name") == "tls"), "mountPath")!;
        foreach (var setting in new[] { "MemSvc__Tls__CertificatePath", "MemSvc__Tls__KeyPath", "MemSvc__Tls__ClientCaPath" })
        {
            Assert.StartsWith(mount + "/", env[setting], StringComparison.Ordinal);
        }

        var secret = Named(At(MtlsPatch, "spec.template.spec"), "volumes", "tls");
        Assert.Equal("memsvc-tls", Text(secret, "secret.secretName"));
        Assert.Null(At(secret, "secret.optional"));
        var service = Load("components/mtls/service.yaml").Root;
        var port = Named(container, "ports", Text(Items(service, "spec.ports").Single(), "targetPort")!);
        Assert.Equal(env["MemSvc__Tls__Port"], Text(port, "containerPort"));
    }

    [Fact]
    public void Every_manifest_is_a_complete_object_and_every_kustomization_entry_exists()
    {
        foreach (var (kustomization, listed) in new[] { ("kustomization.yaml", "resources"), ("components/mtls/kustomization.yaml", "resources") })
        {
            var root = Load(kustomization).Root;
            var folder = Path.GetDirectoryName(kustomization)!;
            foreach (var entry in ((YamlSequenceNode)At(root, listed)!).Children.Select(c => ((YamlScalarNode)c).Value!))
            {
                var manifest = Load(Path.Combine(folder, entry)).Root;
                Assert.False(string.IsNullOrEmpty(Text(manifest, "apiVersion")), entry);
                Assert.False(string.IsNullOrEmpty(Text(manifest, "kind")), entry);
                Assert.False(string.IsNullOrEmpty(Text(manifest, "metadata.name")), entry);
            }
        }

        Assert.Equal("Component", Text(Load("components/mtls/kustomization.yaml").Root, "kind"));
        var selector = (YamlMappingNode)At(DaemonSet, "spec.selector.matchLabels")!;
        var labels = (YamlMappingNode)At(DaemonSet, "spec.template.metadata.labels")!;
        Assert.NotEmpty(selector.Children);
        Assert.All(selector.Children, l => Assert.Equal(l.Value, labels.Children[l.Key]));
    }

    private static long Quantity(string text) => text switch
    {
        _ when text.EndsWith("Gi", StringComparison.Ordinal) => long.Parse(text[..^2], CultureInfo.InvariantCulture) << 30,
        _ when text.EndsWith("Mi", StringComparison.Ordinal) => long.Parse(text[..^2], CultureInfo.InvariantCulture) << 20,
        _ => long.Parse(text, CultureInfo.InvariantCulture),
    };

    // Every configuration path the server binds: the MemSvc section and the sections bound beside it.
    private static HashSet<string> SettingPaths()
    {
        var paths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Walk(typeof(MemSvcOptions), MemSvcOptions.Section, paths);
        Walk(typeof(SecurityOptions), SecurityOptions.Section, paths);
        Walk(typeof(TlsOptions), TlsOptions.Section, paths);
        return paths;
    }

    private static void Walk(Type type, string prefix, HashSet<string> paths)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || p.PropertyType.IsClass))
        {
            var path = $"{prefix}:{property.Name}";
            paths.Add(path);
            var t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (t.IsClass && t != typeof(string) && !t.IsArray && !typeof(System.Collections.IEnumerable).IsAssignableFrom(t))
            {
                Walk(t, path, paths);
            }
        }
    }
}
