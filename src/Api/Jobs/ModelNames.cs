using System.Text.RegularExpressions;

namespace GanService.Api.Jobs;

/// <summary>The rule for names a model is registered under (by a training or an import).</summary>
public static partial class ModelNames
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,62}$")]
    private static partial Regex Pattern();

    /// <summary>Why <paramref name="name"/> cannot name a model, or null when it can.</summary>
    public static string? Problem(string name) => Pattern().IsMatch(name)
        ? null
        : $"name must be 2..63 characters of a-z, 0-9 and '-', starting with a letter or digit, got '{name}'.";
}
