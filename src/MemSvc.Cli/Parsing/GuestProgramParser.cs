using Google.Protobuf;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Parsing;

/// <summary>
/// Guest programs as operators write them: the step DSL of README.md ("write 0x100000000 4096 0xaa private; halt")
/// or the protobuf JSON of memsvc.v1.GuestProgram (text starting with '{').
/// </summary>
internal static class GuestProgramParser
{
    public static GuestProgram Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                return JsonParser.Default.Parse<GuestProgram>(text);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new FormatException($"guest program JSON: {e.Message}", e);
            }
        }

        var program = new GuestProgram();
        var statements = text.Split(['\n', ';'])
            .Select(line => line.Split('#')[0].Trim())
            .Where(line => line.Length > 0)
            .ToList();
        for (var i = 0; i < statements.Count; i++)
        {
            try
            {
                program.Steps.Add(ParseStep(statements[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
            }
            catch (FormatException e)
            {
                throw new FormatException($"guest program step {i + 1} ('{statements[i]}'): {e.Message}", e);
            }
        }

        if (program.Steps.Count == 0)
        {
            throw new FormatException("guest program has no steps");
        }

        return program;
    }

    private static GuestStep ParseStep(string[] words)
    {
        var verb = words[0].ToLowerInvariant();
        return verb switch
        {
            "write" => new GuestStep { WritePattern = ParseWrite(words) },
            "check" => new GuestStep { CheckPattern = ParseCheck(words) },
            "map-private" or "map-shared" => new GuestStep
            {
                MapGpaRange = new MapGpaRangeStep
                {
                    Gpa = Number(words, 1, 3, "gpa"),
                    Pages = Number(words, 2, 3, "pages"),
                    ToPrivate = verb == "map-private",
                },
            },
            "report" => new GuestStep { Report = new ReportStep { Value = ReportValue(Number(words, 1, 2, "value")) } },
            "halt" when words.Length == 1 => new GuestStep { Halt = new HaltStep() },
            "halt" => throw new FormatException("halt takes no argument"),
            _ => throw new FormatException($"unknown step '{words[0]}' (write, check, map-private, map-shared, report, halt)"),
        };
    }

    private static WritePatternStep ParseWrite(string[] words)
    {
        var (gpa, length, pattern, intent) = PatternArguments(words);
        return new WritePatternStep { Gpa = gpa, Length = length, Pattern = pattern, Intent = intent };
    }

    private static CheckPatternStep ParseCheck(string[] words)
    {
        var (gpa, length, pattern, intent) = PatternArguments(words);
        return new CheckPatternStep { Gpa = gpa, Length = length, Pattern = pattern, Intent = intent };
    }

    private static (ulong Gpa, ulong Length, uint Pattern, AccessIntent Intent) PatternArguments(string[] words)
    {
        if (words.Length is < 4 or > 5)
        {
            throw new FormatException($"{words[0]} takes GPA LENGTH PATTERN [private|shared]");
        }

        var pattern = Numbers.Parse(words[3], "pattern");
        if (pattern > byte.MaxValue)
        {
            throw new FormatException($"pattern {words[3]} is not a byte (0 to 0xff)");
        }

        var intent = words.Length == 4 ? AccessIntent.Shared : words[4].ToLowerInvariant() switch
        {
            "private" => AccessIntent.Private,
            "shared" => AccessIntent.Shared,
            _ => throw new FormatException($"intent '{words[4]}' is neither private nor shared"),
        };
        return (Numbers.Parse(words[1], "gpa"), Numbers.Parse(words[2], "length"), (uint)pattern, intent);
    }

    private static uint ReportValue(ulong value) =>
        value <= uint.MaxValue ? (uint)value : throw new FormatException($"report value {value} does not fit in 32 bits");

    private static ulong Number(string[] words, int index, int count, string what)
    {
        if (words.Length != count)
        {
            throw new FormatException($"{words[0]} takes {count - 1} argument(s)");
        }

        return Numbers.Parse(words[index], what);
    }
}
