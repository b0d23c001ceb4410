using System.Text;
using MemSvc.Client.Errors;

namespace MemSvc.Cli.Output;

/// <summary>A server error as an operator reads it: the status, the reason, the field at fault and the details.</summary>
internal static class ErrorText
{
    public static string Describe(MemSvcException e)
    {
        var text = new StringBuilder();
        text.Append("error: ").Append(StatusWords.Of(e.StatusCode));
        if (e.Reason is not null)
        {
            text.Append(" (").Append(e.Reason).Append(')');
        }

        text.Append(": ").Append(e.Detail);
        foreach (var violation in e.FieldViolations)
        {
            text.AppendLine().Append("  field ").Append(violation.Field).Append(": ").Append(violation.Description);
        }

        foreach (var (key, value) in e.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.AppendLine().Append("  ").Append(key).Append(": ").Append(value);
        }

        return text.ToString();
    }
}
