namespace MemSvc.Cli.Demo;

/// <summary>Numbered steps and indented details, written whole lines at a time from any thread.</summary>
internal sealed class Narrator(TextWriter output, int steps, bool color)
{
    private readonly Lock _lock = new();
    private int _step;

    public void Step(string text)
    {
        lock (_lock)
        {
            _step++;
            var title = $"[{_step}/{steps}] {text}";
            output.WriteLine(color ? $"\u001b[1m{title}\u001b[0m" : title);
            output.Flush();
        }
    }

    public void Detail(string text)
    {
        lock (_lock)
        {
            foreach (var line in text.TrimEnd('\n').Split('\n'))
            {
                output.WriteLine("      " + line);
            }

            output.Flush();
        }
    }
}
