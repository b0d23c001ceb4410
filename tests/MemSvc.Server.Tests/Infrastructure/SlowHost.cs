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
}
