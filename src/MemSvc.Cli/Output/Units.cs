using System.Globalization;

namespace MemSvc.Cli.Output;

/// <summary>Addresses in hexadecimal and sizes in binary units, the way KVM people read them.</summary>
internal static class Units
{
    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A guest-physical address padded to 12 hex digits (48-bit space), so that columns line up.</summary>
    public static string Gpa(ulong value) => "0x" + value.ToString("x12", CultureInfo.InvariantCulture);

    /// <summary>Bytes in the largest binary unit that divides them exactly (16 MiB, 4 KiB), else in bytes.</summary>
    public static string Size(ulong bytes)
    {
        string[] units = ["TiB", "GiB", "MiB", "KiB"];
        for (var i = 0; i < units.Length; i++)
        {
            var factor = 1UL << (10 * (4 - i));
            if (bytes >= factor && bytes % factor == 0)
            {
                return (bytes / factor).ToString(CultureInfo.InvariantCulture) + " " + units[i];
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + " B";
    }

    public static string Duration(Google.Protobuf.WellKnownTypes.Duration? duration)
    {
        if (duration is null)
        {
            return "-";
        }

        var span = duration.ToTimeSpan();
        return span.TotalMilliseconds >= 1
            ? span.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms"
            : (span.Ticks / 10.0).ToString("0.#", CultureInfo.InvariantCulture) + "us";
    }

    public static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "-" : time.ToDateTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
