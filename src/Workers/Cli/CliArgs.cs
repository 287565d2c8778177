namespace GanService.Workers.Cli;

/// <summary>Minimal `--name value` / `--flag` parser for the command-line verbs.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Positional { get; }

    private CliArgs(List<string> positional) => Positional = positional;

    public static CliArgs Parse(string[] args)
    {
        var positional = new List<string>();
        var result = new CliArgs(positional);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
                result.values[args[i][2..]] = hasValue ? args[++i] : "true";
            }
            else positional.Add(args[i]);
        }
        return result;
    }

    public string String(string name, string fallback) => values.TryGetValue(name, out var v) ? v : fallback;

    public string? Optional(string name) => values.TryGetValue(name, out var v) ? v : null;

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;

    public long? OptionalLong(string name) => values.TryGetValue(name, out var v) ? long.Parse(v) : null;

    /// <summary>A number with a decimal point, read the same whatever the machine's culture.</summary>
    public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

    public double? OptionalDouble(string name) =>
        values.TryGetValue(name, out var v) ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : null;

    public bool Flag(string name) => values.ContainsKey(name);
}
