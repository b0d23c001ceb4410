using System.CommandLine;
using System.CommandLine.Parsing;
using MemSvc.Cli.Parsing;

namespace MemSvc.Cli.Infrastructure;

/// <summary>Arguments and options several commands share, with parsers that report bad input as usage errors.</summary>
internal static class CliArgs
{
    public static Argument<string> Vm() => new("vm") { Description = "The VM: its id (demo) or name (vms/demo)" };

    public static Argument<uint> Index(string name, string description) => new(name) { Description = description };

    public static Argument<ulong> NumberArgument(string name, string description) =>
        new(name) { Description = description, CustomParser = ParseNumber };

    /// <summary>An address or size option: decimal, 0x hex, or with K/M/G.</summary>
    public static Option<ulong> Number(string name, string description, bool required = true, ulong? defaultValue = null)
    {
        var option = new Option<ulong>(name)
        {
            Description = description,
            Required = required && defaultValue is null,
            HelpName = "N",
            CustomParser = ParseNumber,
        };
        if (defaultValue is { } value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    /// <summary>A required option whose value is one of <paramref name="words"/>, mapped to its enum value.</summary>
    public static Option<T> Word<T>(string name, string description, IReadOnlyDictionary<string, T> words)
        where T : struct, Enum
    {
        var option = WordChoice(name, description, words);
        option.Required = true;
        return option;
    }

    /// <summary>
    /// An option whose value is one of <paramref name="words"/>, <paramref name="defaultValue"/> when absent; the
    /// help says the default as its word, or <paramref name="defaultText"/> when no word names it (the server's).
    /// </summary>
    public static WordOption<T> Word<T>(string name, string description, IReadOnlyDictionary<string, T> words, T defaultValue, string? defaultText = null)
        where T : struct, Enum
    {
        var said = defaultText ?? words.First(w => EqualityComparer<T>.Default.Equals(w.Value, defaultValue)).Key;
        return new WordOption<T>(WordChoice(name, $"{description}; default: {said}", words), defaultValue);
    }

    private static Option<T> WordChoice<T>(string name, string description, IReadOnlyDictionary<string, T> words)
        where T : struct, Enum
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = string.Join("|", words.Keys),
            CustomParser = result => ParseWord(result, words),
        };
        // Only the command line's words: an enum option would also offer its C# member names.
        option.CompletionSources.Clear();
        option.CompletionSources.Add(words.Keys.ToArray());
        return option;
    }

    /// <summary>A comma-separated (or repeated) list of words, such as <c>--flags mmap,init-shared</c>.</summary>
    public static Option<T[]> Words<T>(string name, string description, IReadOnlyDictionary<string, T> words)
        where T : struct, Enum =>
        WithCompletions(new Option<T[]>(name)
        {
            Description = $"{description} ({string.Join(",", words.Keys)}; comma-separated)",
            HelpName = "LIST",
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => [],
            CustomParser = result =>
            {
                var values = new List<T>();
                foreach (var word in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                {
                    if (!words.TryGetValue(word.ToLowerInvariant(), out var value))
                    {
                        result.AddError($"'{word}' is not one of {string.Join(", ", words.Keys)}");
                        return [];
                    }

                    values.Add(value);
                }

                return values.ToArray();
            },
        }, words.Keys);

    private static Option<T> WithCompletions<T>(Option<T> option, IEnumerable<string> words)
    {
        option.CompletionSources.Clear();
        option.CompletionSources.Add(words.ToArray());
        return option;
    }

    private static ulong ParseNumber(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (Numbers.TryParse(token, out var value))
        {
            return value;
        }

        result.AddError($"'{token}' is not a number (decimal, 0x hex, or with a K/M/G unit)");
        return 0;
    }

    private static T ParseWord<T>(ArgumentResult result, IReadOnlyDictionary<string, T> words)
        where T : struct
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (words.TryGetValue(token.ToLowerInvariant(), out var value))
        {
            return value;
        }

        result.AddError($"'{token}' is not one of {string.Join(", ", words.Keys)}");
        return default;
    }
}
