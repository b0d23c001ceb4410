using System.Text;
using Grpc.Core;

namespace MemSvc.Cli.Output;

/// <summary>gRPC status codes spelled as the gRPC specification spells them (INVALID_ARGUMENT).</summary>
internal static class StatusWords
{
    public static string Of(StatusCode code)
    {
        var name = code.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append('_');
            }

            text.Append(char.ToUpperInvariant(name[i]));
        }

        return text.ToString();
    }
}
