using System.CommandLine;

namespace MemSvc.Cli.Infrastructure;

/// <summary>
/// An option whose value is one of a few words and which has a default. The default is applied here rather than
/// by the option's DefaultValueFactory, which help would print as the C# enum member ("[default: Unspecified]");
/// the description says it in the command line's own word instead.
/// </summary>
internal sealed class WordOption<T>(Option<T> option, T defaultValue)
    where T : struct, Enum
{
    public Option<T> Option { get; } = option;

    public T Default { get; } = defaultValue;

    public static implicit operator Option(WordOption<T> word) => word.Option;

    /// <summary>The word given, or the default when the option is absent.</summary>
    public T Value(ParseResult parse) => parse.GetResult(Option) is null ? Default : parse.GetValue(Option);
}
