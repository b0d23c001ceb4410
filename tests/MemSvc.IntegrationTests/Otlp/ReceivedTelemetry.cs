using Google.Protobuf;
using Google.Protobuf.Collections;

namespace MemSvc.IntegrationTests.Otlp;

/// <summary>
/// One exported span, with the attributes of the resource (the process) that made it and the user-agent of the
/// exporter that sent it here: MemSvc's SDK itself, or a collector in between.
/// </summary>
internal sealed record ReceivedSpan(Span Span, IReadOnlyDictionary<string, object> Resource, string Sender)
{
    public string Name => Span.Name;

    public ByteString TraceId => Span.TraceId;

    public IReadOnlyDictionary<string, object> Attributes { get; } = Otlp.Attributes.Of(Span.Attributes);
}

/// <summary>One metric data point: a sum or gauge value, or a histogram's count.</summary>
internal sealed record ReceivedPoint(string Metric, IReadOnlyDictionary<string, object> Attributes, double Value)
{
    public static IEnumerable<ReceivedPoint> Of(Metric metric)
    {
        var numbers = (metric.Sum?.DataPoints ?? []).Concat(metric.Gauge?.DataPoints ?? []);
        foreach (var point in numbers)
        {
            // OTLP sends a number as one of as_int or as_double; the other stays 0.
            yield return new ReceivedPoint(metric.Name, Otlp.Attributes.Of(point.Attributes), point.AsInt != 0 ? point.AsInt : point.AsDouble);
        }

        foreach (var point in metric.Histogram?.DataPoints ?? [])
        {
            yield return new ReceivedPoint(metric.Name, Otlp.Attributes.Of(point.Attributes), point.Count);
        }
    }
}

/// <summary>One log record: severity (OTLP's numbers: 9 INFO, 13 WARN, 17 ERROR), body and attributes.</summary>
internal sealed record ReceivedLog(int Severity, string Body, IReadOnlyDictionary<string, object> Attributes);

internal static class Attributes
{
    public static IReadOnlyDictionary<string, object> Of(RepeatedField<KeyValue>? attributes)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var attribute in attributes ?? [])
        {
            values[attribute.Key] = attribute.Value?.ValueCase switch
            {
                AnyValue.ValueOneofCase.StringValue => attribute.Value.StringValue,
                AnyValue.ValueOneofCase.BoolValue => attribute.Value.BoolValue,
                AnyValue.ValueOneofCase.IntValue => attribute.Value.IntValue,
                AnyValue.ValueOneofCase.DoubleValue => attribute.Value.DoubleValue,
                _ => string.Empty,
            };
        }

        return values;
    }
}
