using MemSvc.Cli.Parsing;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Tests.Parsing;

/// <summary>The guest program step language and its JSON alternative.</summary>
public sealed class GuestProgramParserTests
{
    [Fact]
    public void Every_step_of_the_language_maps_to_its_proto_step()
    {
        var program = GuestProgramParser.Parse("""
            # the guest of README.md
            write 0x100000000 4096 0xaa private
            check 0x100000000 4K 0xaa private; write 0x2000 16 7
            map-private 0x3000 2; map-shared 0x5000 1
            report 42
            halt
            """);

        Assert.Equal(7, program.Steps.Count);
        Assert.Equal(new WritePatternStep { Gpa = 0x100000000, Length = 4096, Pattern = 0xaa, Intent = AccessIntent.Private }, program.Steps[0].WritePattern);
        Assert.Equal(new CheckPatternStep { Gpa = 0x100000000, Length = 4096, Pattern = 0xaa, Intent = AccessIntent.Private }, program.Steps[1].CheckPattern);
        Assert.Equal(new WritePatternStep { Gpa = 0x2000, Length = 16, Pattern = 7, Intent = AccessIntent.Shared }, program.Steps[2].WritePattern);
        Assert.Equal(new MapGpaRangeStep { Gpa = 0x3000, Pages = 2, ToPrivate = true }, program.Steps[3].MapGpaRange);
        Assert.Equal(new MapGpaRangeStep { Gpa = 0x5000, Pages = 1, ToPrivate = false }, program.Steps[4].MapGpaRange);
        Assert.Equal(42u, program.Steps[5].Report.Value);
        Assert.Equal(GuestStep.StepOneofCase.Halt, program.Steps[6].StepCase);
    }

    [Fact]
    public void Json_is_the_protobuf_mapping_of_GuestProgram()
    {
        var program = GuestProgramParser.Parse("""{ "steps": [ { "report": { "value": 7 } }, { "halt": {} } ] }""");

        Assert.Equal(7u, program.Steps[0].Report.Value);
        Assert.Equal(GuestStep.StepOneofCase.Halt, program.Steps[1].StepCase);
    }

    [Theory]
    [InlineData("jump 0x1000", "step 1 ('jump 0x1000'): unknown step 'jump'")]
    [InlineData("halt; write 0x1000 4096 0x1ff", "step 2 ('write 0x1000 4096 0x1ff'): pattern 0x1ff is not a byte")]
    [InlineData("write 0x1000 4096 1 secret", "intent 'secret' is neither private nor shared")]
    [InlineData("map-private 0x1000", "map-private takes 2 argument(s)")]
    [InlineData("report 0x100000000", "does not fit in 32 bits")]
    [InlineData("check 0xzz 1 1", "gpa: '0xzz' is not a number")]
    [InlineData("# nothing", "guest program has no steps")]
    public void Mistakes_name_the_step_and_what_is_wrong(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => GuestProgramParser.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4096", 4096UL)]
    [InlineData("0x1000", 4096UL)]
    [InlineData("4K", 4096UL)]
    [InlineData("16MiB", 16UL << 20)]
    [InlineData("1g", 1UL << 30)]
    [InlineData("0x1_0000_0000", 1UL << 32)]
    public void Numbers_take_hex_and_binary_units(string text, ulong expected)
    {
        Assert.True(Numbers.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("-1")]
    [InlineData("16777216T")]
    [InlineData("12q")]
    public void Numbers_refuse_what_is_not_one(string text) => Assert.False(Numbers.TryParse(text, out _));
}
