using Google.Protobuf;

namespace MemSvc.Cli.Output;

/// <summary>Responses in the protobuf JSON mapping, with default values written so that scripts see every field.</summary>
internal static class JsonOutput
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    private static readonly JsonFormatter Compact = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>One message on one line (events: one JSON object per line, as jq and log shippers expect).</summary>
    public static string Line(IMessage message) => Compact.Format(message);

    public static string Array(IEnumerable<IMessage> messages)
    {
        var items = messages.Select(m => Formatter.Format(m)).ToList();
        return items.Count == 0 ? "[]" : "[\n" + string.Join(",\n", items) + "\n]";
    }
}
