using System.Globalization;
using System.Text;
using MemSvc.LoadDriver.Suites;

namespace MemSvc.LoadDriver.Report;

/// <summary>
/// The plot for BENCHMARKS.md, drawn from this run's results: latency percentiles (MemSvc beside its baseline) on
/// the left, stream throughput against watcher count on the right. Plain SVG, so that it needs no library.
/// </summary>
internal static class SvgPlot
{
    private const int PanelWidth = 420;
    private const int Height = 320;
    private const int Top = 40;
    private const int Bottom = 260;
    private const string MemSvcColor = "#1f77b4";
    private const string BaselineColor = "#ff7f0e";

    public static string Render(LatencyResults latency, IReadOnlyList<ThroughputPoint> throughput, string title)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{2 * PanelWidth + 40}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"16\" font-size=\"13\">{Escape(title)}</text>\n");
        Latency(svg, latency, 10);
        Throughput(svg, throughput, PanelWidth + 30);
        Legend(svg, 10, Height - 12);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Latency(StringBuilder svg, LatencyResults r, int left)
    {
        (string Label, double MemSvc, double Baseline)[] groups =
        [
            ("resolution p50", r.Resolve.Percentile(50), r.RoundTrips.Percentile(50)),
            ("resolution p99", r.Resolve.Percentile(99), r.RoundTrips.Percentile(99)),
            ("delivery p50", r.Deliver.Percentile(50), r.StreamMessage.Percentile(50)),
            ("delivery p99", r.Deliver.Percentile(99), r.StreamMessage.Percentile(99)),
        ];
        var max = groups.Max(g => Math.Max(g.MemSvc, g.Baseline)) * 1.1;
        Axes(svg, left, "latency (µs)", max);
        var slot = (PanelWidth - 50) / groups.Length;
        for (var i = 0; i < groups.Length; i++)
        {
            var x = left + 45 + (i * slot);
            Bar(svg, x + 8, groups[i].MemSvc, max, MemSvcColor);
            Bar(svg, x + 8 + 28, groups[i].Baseline, max, BaselineColor);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 8}\" y=\"{Bottom + 14}\">{groups[i].Label}</text>\n");
        }
    }

    private static void Throughput(StringBuilder svg, IReadOnlyList<ThroughputPoint> points, int left)
    {
        var max = points.Max(p => Math.Max(p.MemSvc, p.Bare)) * 1.1;
        Axes(svg, left, "messages/s (all watchers)", max);
        var maxLog = Math.Log2(Math.Max(2, points.Max(p => p.Watchers)));
        double X(int watchers) => left + 50 + (Math.Log2(watchers) / maxLog * (PanelWidth - 80));
        Line(svg, points.Select(p => (X(p.Watchers), Y(p.MemSvc, max))).ToList(), MemSvcColor);
        Line(svg, points.Select(p => (X(p.Watchers), Y(p.Bare, max))).ToList(), BaselineColor);
        foreach (var p in points)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(p.Watchers) - 4:F0}\" y=\"{Bottom + 14}\">{p.Watchers}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + 150}\" y=\"{Bottom + 28}\">watchers (log scale)</text>\n");
    }

    private static void Axes(StringBuilder svg, int left, string label, double max)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + 40}\" y1=\"{Top}\" x2=\"{left + 40}\" y2=\"{Bottom}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + 40}\" y1=\"{Bottom}\" x2=\"{left + PanelWidth}\" y2=\"{Bottom}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + 40}\" y=\"{Top - 8}\">{Escape(label)}</text>\n");
        for (var tick = 0; tick <= 4; tick++)
        {
            var value = max * tick / 4;
            var y = Y(value, max);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + 36}\" y1=\"{y:F1}\" x2=\"{left + PanelWidth}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{y + 4:F1}\">{Short(value)}</text>\n");
        }
    }

    private static void Bar(StringBuilder svg, int x, double value, double max, string color) =>
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{Y(value, max):F1}\" width=\"24\" height=\"{Bottom - Y(value, max):F1}\" fill=\"{color}\"><title>{value:F1}</title></rect>\n");

    private static void Line(StringBuilder svg, List<(double X, double Y)> points, string color)
    {
        var path = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X:F1},{p.Y:F1}")));
        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
        foreach (var (x, y) in points)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"3\" fill=\"{color}\"/>\n");
        }
    }

    private static void Legend(StringBuilder svg, int x, int y)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y - 9}\" width=\"10\" height=\"10\" fill=\"{MemSvcColor}\"/><text x=\"{x + 14}\" y=\"{y}\">MemSvc</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + 80}\" y=\"{y - 9}\" width=\"10\" height=\"10\" fill=\"{BaselineColor}\"/><text x=\"{x + 94}\" y=\"{y}\">bare grpc-dotnet baseline (same run)</text>\n");
    }

    private static double Y(double value, double max) => Bottom - (value / max * (Bottom - Top));

    private static string Short(double value) => value >= 1e6
        ? (value / 1e6).ToString("F1", CultureInfo.InvariantCulture) + "M"
        : value >= 1e3 ? (value / 1e3).ToString(value >= 1e4 ? "F0" : "F1", CultureInfo.InvariantCulture) + "k" : value.ToString("F0", CultureInfo.InvariantCulture);

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
