namespace GanService.Core.Jobs;

/// <summary>
/// What a generation job was asked for, after validation and defaulting (seed drawn at acceptance, so a retry or a
/// second worker produces the same pixels). Stored as the job's <c>input</c> JSON.
/// </summary>
public sealed record GenerationInput(int Count, long Seed, string? Label, double Truncation, string Format);

/// <summary>Image formats the service encodes, with their content types.</summary>
public static class ImageFormats
{
    public static IReadOnlyDictionary<string, string> ContentTypes { get; } = new Dictionary<string, string>
    {
        ["png"] = "image/png",
        ["webp"] = "image/webp",
        ["jpeg"] = "image/jpeg",
    };
}
