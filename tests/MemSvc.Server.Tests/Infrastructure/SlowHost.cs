using System.Globalization;

namespace MemSvc.Server.Tests.Infrastructure;

/// <summary>
/// How much longer than usual the safety nets against hangs wait: MEMSVC_TEST_PATIENCE_SCALE (default 1). The nested
/// KVM of tests/kvm-host runs the whole guest on one software-emulated CPU, where a child server takes a minute to
/// start; run-kvm-tests.sh sets it there. Never an assertion about speed.
/// </summary>
public static class SlowHost
{
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("MEMSVC_TEST_PATIENCE_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) && scale >= 1 ? scale : 1;

    public static TimeSpan Scaled(TimeSpan patience) => patience * Scale;

    /// <summary>
    /// Why a test that starts several server processes on a real KVM does not run here, or null when it does: under a
    /// software-emulated CPU (QEMU's TCG, the nested KVM of tests/kvm-host) two child servers and a handoff take ~10
    /// minutes, more than CI's whole budget, unless MEMSVC_KVM_SLOW_TESTS=1 asks for them. On a host with a hardware
    /// KVM they always run.
    /// </summary>
    public static string? WhySlowKvmTestsWait()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) ?? "";
        return model.Contains("TCG", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("MEMSVC_KVM_SLOW_TESTS") != "1"
            ? $"software-emulated CPU ({model.Split(':', 2)[^1].Trim()}): two server processes take ~10 minutes here; MEMSVC_KVM_SLOW_TESTS=1 runs this test"
            : null;
    }
}
