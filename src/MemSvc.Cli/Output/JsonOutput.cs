using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace MemSvc.Cli.Output;

/// <summary>
/// Responses in the protobuf JSON mapping, with default values written so that scripts see every field. What a
/// command shows beyond one message (a VM with its vCPUs and memory map, what an action did) is an object of such
/// messages, in the same conventions: camelCase keys, 64-bit numbers as strings, enums by their proto names.
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    private static readonly JsonFormatter Compact = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>One message on one line (events: one JSON object per line, as jq and log shippers expect).</summary>
    public static string Line(IMessage message) => Compact.Format(message);

    public static string Array(IEnumerable<IMessage> messages)
    {
        var items = messages.Select(m => Formatter.Format(m)).ToList();
        return items.Count == 0 ? "[]" : "[\n" + string.Join(",\n", items) + "\n]";
    }

    /// <summary><paramref name="message"/> as a node, to put in a larger object.</summary>
    public static JsonObject Node(IMessage message) => JsonNode.Parse(Compact.Format(message))!.AsObject();

    public static JsonArray Nodes(IEnumerable<IMessage> messages) => [.. messages.Select(m => (JsonNode)Node(m))];

    /// <summary>A uint64 as the protobuf JSON mapping writes it: a decimal string (JavaScript's numbers stop at 2^53).</summary>
    public static JsonNode Number(ulong value) => JsonValue.Create(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>A contract enum's value by its proto name (FAULT_ACTION_CONVERT), as the JSON mapping writes enums.</summary>
    public static string EnumName<T>(T value)
        where T : struct, Enum =>
        typeof(T).GetField(value.ToString())?.GetCustomAttribute<OriginalNameAttribute>()?.Name ?? value.ToString();

    public static string Format(JsonObject value) => value.ToJsonString(Indented);

    public static string Line(JsonObject value) => value.ToJsonString();
}
