using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GanService.Workers.Tests;

/// <summary>
/// train-vgan --select-every as real processes: --out holds the step with the lowest validation distance, the choice
/// survives a resume, and eval-vgan --split validation measures the shipped file at the distance the run recorded.
/// </summary>
public sealed partial class TrainVganSelectionCliTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("ganservice-train-vgan-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private static async Task<string> RunAsync(string arguments)
    {
        var root = Repo.Root();
        var dll = Repo.WorkerDll();
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments} --data \"{Path.Combine(root, ".data", "datasets", "fashion-mnist")}\" " +
                                                  $"--classifier \"{Path.Combine(root, "models", "moving-fashion-classifier")}\"")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";   // numbers printed as the regexes read them
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{arguments} exited {process.ExitCode}:\n{output}");
        return output;
    }

    [GeneratedRegex(@"^step (\d+): validation FD (\d+\.\d+)", RegexOptions.Multiline)]
    private static partial Regex Measured();

    [GeneratedRegex(@"best so far step (\d+), validation FD (\d+\.\d+)")]
    private static partial Regex ResumedBest();

    [GeneratedRegex(@"Fréchet distance of frames: generated (\d+\.\d+)")]
    private static partial Regex Evaluated();

    private static Dictionary<long, double> Distances(string output) => Measured().Matches(output)
        .ToDictionary(m => long.Parse(m.Groups[1].Value), m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));

    [Fact]
    public async Task Out_holds_the_step_with_the_lowest_validation_distance_and_a_resumed_run_keeps_choosing_among_all_steps()
    {
        string outDir = Path.Combine(scratch, "out"), checkpoints = Path.Combine(scratch, "checkpoints");
        // Tiny widths, 4 clips per step, 12 validation clips; measured every 2 steps. A learning rate this high makes the
        // distance grow after the first steps, so the best is not the last step and a run that shipped its latest fails.
        string train = $"train-vgan --out \"{outDir}\" --checkpoints \"{checkpoints}\" --batch 4 --ngf 8 --ndf 8 --lr 5e-2 " +
                       "--save-every 2 --log-every 100 --threads 1";

        var first = Distances(await RunAsync(train + " --select-every 2 --select-clips 12 --steps 4"));
        Assert.Equal([2L, 4L], first.Keys.Order());
        var firstBest = first.MinBy(p => p.Value);

        // Resumed without the options: the checkpoint's selection settings hold, as its training settings do.
        var resumed = await RunAsync(train + " --steps 7");
        Assert.Contains("every 2 steps over 12 clips (the checkpoint's settings", resumed);
        var best = ResumedBest().Match(resumed);
        Assert.True(best.Success, resumed);
        Assert.Equal(firstBest.Key, long.Parse(best.Groups[1].Value));   // read back, not measured again
        var second = Distances(resumed);
        Assert.Equal([6L, 7L], second.Keys.Order());   // every 2 steps, and the last step
        var all = first.Concat(second).ToDictionary();
        var chosen = all.MinBy(p => p.Value);
        Assert.True(chosen.Key < 6, $"the setup no longer makes a later step worse: {string.Join(", ", all)}");

        var selection = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoints, "selection.json"))).RootElement;
        Assert.Equal(chosen.Key, selection.GetProperty("step").GetInt64());
        var training = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "training.json"))).RootElement;
        Assert.Equal(chosen.Key, training.GetProperty("step").GetInt64());
        Assert.Equal(chosen.Key, training.GetProperty("selection").GetProperty("step").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(outDir, "vgan.safetensors")))),
            training.GetProperty("sha256").GetString());

        // The shipped file measures what the run recorded for it (other steps' distances differ from it).
        var evaluated = Evaluated().Match(await RunAsync($"eval-vgan --model \"{outDir}\" --split validation --clips 12 --threads 1"));
        Assert.True(evaluated.Success);
        Assert.Equal(chosen.Value, double.Parse(evaluated.Groups[1].Value, CultureInfo.InvariantCulture), 0.02);
        Assert.Contains(all, p => p.Key != chosen.Key && Math.Abs(p.Value - chosen.Value) > 0.02);
    }
}
