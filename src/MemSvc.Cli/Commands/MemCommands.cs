using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using MemSvc.Cli.Infrastructure;
using MemSvc.Cli.Output;
using MemSvc.Contracts.V1;

namespace MemSvc.Cli.Commands;

/// <summary><c>memsvcctl mem read|write</c>: shared guest memory (private memory is refused, as on real hardware).</summary>
internal static class MemCommands
{
    public static Command Build(CommandRunner runner)
    {
        var mem = new Command("mem", "Read and write shared guest memory");
        mem.Subcommands.Add(Read(runner));
        mem.Subcommands.Add(Write(runner));
        return mem;
    }

    /// <summary>A hexdump -C style listing, 16 bytes a line, addressed by gpa.</summary>
    public static string HexDump(ulong gpa, byte[] data)
    {
        var text = new StringBuilder();
        for (var line = 0; line < data.Length; line += 16)
        {
            var chunk = data.AsSpan(line, Math.Min(16, data.Length - line));
            text.Append(Units.Gpa(gpa + (ulong)line)).Append("  ");
            for (var i = 0; i < 16; i++)
            {
                text.Append(i < chunk.Length ? chunk[i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ");
                if (i == 7)
                {
                    text.Append(' ');
                }
            }

            text.Append(" |");
            foreach (var b in chunk)
            {
                text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }

            text.Append("|\n");
        }

        return text.ToString();
    }

    private static Command Read(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var gpa = CliArgs.Number("--gpa", "First guest-physical address");
        var size = CliArgs.Number("--size", "Bytes to read (1 to 4 MiB)", defaultValue: 256);
        var command = new Command("read", "Read shared guest memory as a hex dump") { vm, gpa, size };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var start = parse.GetValue(gpa);
            var data = await context.Client.Memory.ReadGuestMemoryAsync(parse.GetValue(vm)!, start, parse.GetValue(size), ct).ConfigureAwait(false);
            var text = context.Json
                ? JsonOutput.Format(new ReadGuestMemoryResponse { Data = ByteString.CopyFrom(data) }) + "\n"
                : HexDump(start, data);
            await context.Out.WriteAsync(text).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Write(CommandRunner runner)
    {
        var vm = CliArgs.Vm();
        var gpa = CliArgs.Number("--gpa", "First guest-physical address");
        var pattern = CliArgs.Number("--pattern", "A byte repeated --size times", required: false);
        var size = CliArgs.Number("--size", "Bytes of --pattern to write", required: false);
        var hex = new Option<string?>("--hex") { Description = "The bytes as hex digits (\"deadbeef\")" };
        var file = new Option<FileInfo?>("--file") { Description = "The bytes of a file (an image to load)" };
        var command = new Command("write", "Write shared guest memory: --pattern with --size, --hex or --file") { vm, gpa, pattern, size, hex, file };
        runner.Bind(command, async (context, parse, ct) =>
        {
            var data = Bytes(parse.GetResult(pattern) is not null ? parse.GetValue(pattern) : null, parse.GetValue(size), parse.GetValue(hex), parse.GetValue(file));
            var start = parse.GetValue(gpa);
            var written = await context.Client.Memory.WriteGuestMemoryAsync(parse.GetValue(vm)!, start, data, ct).ConfigureAwait(false);
            await context.ReportAsync(
                $"wrote {written} bytes at {Units.Gpa(start)}",
                () => new JsonObject { ["vm"] = Client.ResourceNames.Vm(parse.GetValue(vm)!), ["gpa"] = JsonOutput.Number(start), ["size"] = JsonOutput.Number(written) }).ConfigureAwait(false);
        });
        return command;
    }

    private static byte[] Bytes(ulong? pattern, ulong size, string? hex, FileInfo? file)
    {
        var given = (pattern is null ? 0 : 1) + (hex is null ? 0 : 1) + (file is null ? 0 : 1);
        if (given != 1)
        {
            throw new UsageException("give exactly one of --pattern (with --size), --hex and --file");
        }

        if (pattern is { } value)
        {
            if (value > byte.MaxValue || size is 0 or > 4 * 1024 * 1024)
            {
                throw new UsageException("--pattern takes a byte (0 to 0xff) and --size 1 to 4 MiB");
            }

            var bytes = new byte[size];
            Array.Fill(bytes, (byte)value);
            return bytes;
        }

        if (hex is not null)
        {
            try
            {
                return Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
            }
            catch (FormatException e)
            {
                throw new UsageException($"--hex: {e.Message}", e);
            }
        }

        return File.ReadAllBytes(file!.FullName);
    }
}
