using System.Text;

namespace MemSvc.LoadDriver.Report;

/// <summary>The rows of a run, printed as a Markdown table (it goes into BENCHMARKS.md as is).</summary>
internal sealed class ResultTable
{
    private readonly List<Row> _rows = [];

    public IReadOnlyList<Row> Rows => _rows;

    public void Add(Row row) => _rows.Add(row);

    public void AddRange(IEnumerable<Row> rows) => _rows.AddRange(rows);

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| group | what | figure | baseline (same run) | ratio | added | target | met |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in _rows)
        {
            var met = row.Met switch
            {
                true => "yes",
                false => "**no**",
                null => "-",
            };
            text.AppendLine($"| {row.Group} | {row.What} | {row.Figure} | {row.Baseline} | {row.Ratio} | {row.Added} | {row.Target} | {met} |");
        }

        return text.ToString();
    }
}
