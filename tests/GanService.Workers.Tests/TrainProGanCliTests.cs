using System.Diagnostics;
using System.Text.RegularExpressions;
using GanService.Models.ProGan;

namespace GanService.Workers.Tests;

/// <summary>train-progan as a real process: killed with SIGKILL mid-run, started again, it resumes from the checkpoint.</summary>
public sealed partial class TrainProGanCliTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("ganservice-train-progan-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private Process Start(string checkpoints, List<string> output)
    {
        var root = Repo.Root();
        var dll = Repo.WorkerDll();
        // 32×32 Fashion-MNIST, tiny widths; 0.64 kimg per phase of batch 16 → 280 steps, a checkpoint after every step.
        var info = new ProcessStartInfo("dotnet",
            $"\"{dll}\" train-progan --dataset fashion-mnist --limit 512 --data \"{Path.Combine(root, ".data", "datasets")}\" " +
            $"--latent 8 --fmap-base 32 --fmap-max 8 --stable-kimg 0.64 --fade-kimg 0.64 --batch 16 --threads 1 " +
            $"--checkpoints \"{checkpoints}\" --out \"{Path.Combine(scratch, "out")}\" --checkpoint-minutes 0 --log-every 1")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [GeneratedRegex(@"step (\d+)\s+(\d+)×\d+\s+α (\d\.\d+)")]
    private static partial Regex ProgressLine();

    [Fact]
    public async Task Killed_mid_run_it_resumes_from_the_checkpoint_with_the_same_schedule()
    {
        var checkpoints = Path.Combine(scratch, "checkpoints");
        var first = new List<string>();
        using (var run = Start(checkpoints, first))
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((ProGanTrainer.LatestCheckpoint(checkpoints) is not { } dir || int.Parse(Path.GetFileName(dir)[5..]) < 40) && !run.HasExited)
            {
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint at step ≥ 40 within 120 s:\n" + string.Join("\n", first));
                await Task.Delay(50);
            }
            Assert.False(run.HasExited, "the run ended before it could be killed:\n" + string.Join("\n", first));
            run.Kill(entireProcessTree: true);
            await run.WaitForExitAsync();
        }
        var latest = ProGanTrainer.LatestCheckpoint(checkpoints)!;
        int step = int.Parse(Path.GetFileName(latest)[5..]);
        Assert.True(step < 280, "the first run finished before the kill");

        var second = new List<string>();
        using (var run = Start(checkpoints, second))
        {
            Assert.True(await Task.Run(() => run.WaitForExit(180_000)), "the resumed run did not finish in 180 s");
            Assert.True(run.ExitCode == 0, string.Join("\n", second));
        }
        Assert.Contains(second, l => l.StartsWith($"resumed from {latest} at step {step},"));
        // The first step after the resume is step + 1, at the level and α the schedule gives for that many images.
        var next = second.Select(l => ProgressLine().Match(l)).First(m => m.Success);
        Assert.Equal(step + 1, int.Parse(next.Groups[1].Value));
        var (level, alpha) = new ProGanSchedule(0.64, 0.64).At(step * 16L, maxLevel: 3);
        Assert.Equal(ProGanConfig.Resolution(level), int.Parse(next.Groups[2].Value));
        Assert.Equal(alpha, double.Parse(next.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), 3);
        Assert.Contains(second, l => l.Contains("saved the EMA generator"));
        Assert.True(File.Exists(Path.Combine(scratch, "out", "generator.safetensors")));
    }
}
