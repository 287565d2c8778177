using Hangfire;

namespace GanService.Core.Jobs;

/// <summary>The uploaded face as its header described it; the bytes are the job's input file (jobs.input_key).</summary>
/// <param name="Format">png, jpeg or webp, sniffed from the bytes (never the file name).</param>
/// <param name="Sha256">Of the uploaded bytes, hex.</param>
public sealed record UploadedFile(string Format, int Width, int Height, long Bytes, string Sha256);

/// <summary>
/// What an aging job was asked for, after validation and defaulting; stored as the job's <c>input</c> JSON.
/// </summary>
/// <param name="TargetAges">Age groups to draw the face at, in the model's order, without repeats.</param>
/// <param name="Gender">The gender label the face is drawn with (one of the model's labels); babies are drawn without.</param>
/// <param name="Seed">Recorded with each output. The CAAE maps a face to its outputs deterministically, so it does
/// not change pixels; it is kept so that every output says what reproduces it, as generation outputs do.</param>
/// <param name="Strip">Also return one image of the input followed by the face at every target age.</param>
public sealed record AgingInput(string[] TargetAges, string Gender, long Seed, string Format, bool Strip, UploadedFile Image);

/// <summary>The contract the Api enqueues on the aging queue and the Workers implement (as <see cref="IGenerationJob"/>).</summary>
public interface IAgingJob
{
    [AutomaticRetry(Attempts = 2, DelaysInSeconds = [1, 5], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, CancellationToken ct);
}

/// <summary>
/// Limits on uploaded images (section "Uploads"), checked from the header before any decode. Defaults are the HTTP
/// contract's: 10 MiB, 4096 px a side, 16 megapixels.
/// </summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    public long MaxBytes { get; set; } = 10 * 1024 * 1024;
    public int MaxSide { get; set; } = 4096;
    public long MaxPixels { get; set; } = 16_000_000;
}
