using System.CommandLine;
using System.Text.RegularExpressions;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Parsing;
using MemSvc.Cli.Tests.Infrastructure;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Tests.Output;

/// <summary>Help speaks the command line's words: no C# enum members, no internal type names.</summary>
public sealed partial class HelpTextTests
{
    private static readonly Dictionary<string, string> NoServer = [];

    public static TheoryData<string> Commands => [string.Empty, .. Paths(MemsvcCtl.Build(new CliEnvironment(TextWriter.Null, TextWriter.Null, _ => null, false)), string.Empty)];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_of_every_command_has_no_enum_member_or_type_name(string command)
    {
        var result = await Ctl.RunAsync(NoServer, [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        // Usage names the root command after the process: the test host here, memsvcctl when installed.
        var help = result.Out.Replace(Environment.ProcessPath is { } host ? Path.GetFileNameWithoutExtension(host) : "memsvcctl", "memsvcctl", StringComparison.Ordinal);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("memsvcctl", help, StringComparison.Ordinal);
        Assert.DoesNotMatch(Internal(), help);
    }

    [Fact]
    public async Task The_global_choices_and_defaults_are_words()
    {
        var help = (await Ctl.RunAsync(NoServer, "vm", "create", "--help")).Out;

        Assert.Contains("  -o, --output <table|json>  ", help, StringComparison.Ordinal);
        Assert.Contains("--color <auto|always|never>  ", help, StringComparison.Ordinal);
        Assert.Contains("--type <default|sw-protected|sev|sev-es|snp|tdx>  VM type; default: default\n", help, StringComparison.Ordinal);
        Assert.Contains("--backend <kvm|simulated>                         Backend; default: the server's\n", help, StringComparison.Ordinal);
    }

    [Fact]
    public void A_word_option_gives_its_default_when_absent_and_the_word_when_given()
    {
        var action = CliArgs.Word("--action", "What to do", EnumWords.Actions, FaultAction.Convert);
        var command = new RootCommand { action };

        Assert.Equal(FaultAction.Convert, action.Value(command.Parse([])));
        Assert.Equal(FaultAction.Fail, action.Value(command.Parse(["--action", "fail"])));
        Assert.Equal("What to do; default: convert", action.Option.Description);
    }

    // "[default: Table]", "<Json|Table>", "Unspecified", "System.String", "MemSvc.Cli...".
    [GeneratedRegex(@"\[default: [A-Z]|<[A-Z][a-z]+\||Unspecified|System\.|MemSvc\.[A-Z]|Nullable")]
    private static partial Regex Internal();

    private static IEnumerable<string> Paths(Command command, string path) =>
        command.Subcommands.SelectMany(c => new[] { $"{path} {c.Name}".Trim() }.Concat(Paths(c, $"{path} {c.Name}".Trim())));
}
