using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using GanService.Core;
using GanService.Core.Data;
using GanService.Core.Datasets;
using GanService.Core.Jobs;
using GanService.Core.Models;
using GanService.Core.Storage;
using GanService.Models;
using GanService.Models.ProGan;
using GanService.Workers.Cli;
using GanService.Workers.Inference;
using GanService.Workers.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Serilog.Context;

namespace GanService.Workers.Jobs;

/// <summary>
/// Runs a training job (POST /v1/trainings): a Progressive GAN on a registered dataset, with live progress in the
/// job's <c>detail</c>, cancel checked at every progress write, a checkpoint every Worker:TrainingCheckpointSeconds
/// (a killed worker's retry resumes from it), and at the end evaluation, registration of the EMA generator as a new
/// model version, and a sample grid as the job's output.
/// </summary>
public sealed class TrainingJob(
    GanDbContext db,
    InferenceExecutor executor,
    ModelRegistry registry,
    IBlobStore blobs,
    IOptions<WorkerOptions> options,
    IOptions<DatasetOptions> datasets,
    IOptions<ModelOptions> models,
    ILogger<TrainingJob> log) : ITrainingJob
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);
    /// <summary>Trainings running in this process: a second delivery of one is dropped, never run beside it.</summary>
    private static readonly ConcurrentDictionary<Guid, byte> Running = new();

    public async Task RunAsync(Guid jobId, CancellationToken ct)
    {
        using var _ = LogContext.PushProperty("JobId", jobId);
        if (!Running.TryAdd(jobId, 0))
        {
            log.LogWarning("Training {JobId} is already running in this worker; this delivery is dropped", jobId);
            return;
        }
        try
        {
            await RunClaimedAsync(jobId, ct);
        }
        finally
        {
            Running.TryRemove(jobId, out var _);
        }
    }

    private async Task RunClaimedAsync(Guid jobId, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var stale = now.AddSeconds(-options.Value.OrphanSeconds);
        string worker = WorkerPresence.Id;
        // A queued training, or a running one whose worker is this process or is gone (a retry after a crash):
        // never one a live worker still runs, since trainings take long enough for duplicate deliveries to overlap.
        var claimed = await db.Jobs.FromSql($"""
            WITH claimed AS (
                UPDATE jobs SET status = {JobStatus.Running}, attempts = attempts + 1, started_at = COALESCE(started_at, {now}),
                                device = {executor.DeviceName}, worker = {worker}
                WHERE id = {jobId} AND kind = {JobKinds.Training}
                  AND (status = {JobStatus.Queued}
                       OR (status = {JobStatus.Running} AND (worker = {worker} OR worker IS NULL
                           OR NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = jobs.worker AND w.heartbeat_at > {stale}))))
                  AND (cancel_after IS NULL OR cancel_after > now())
                RETURNING *)
            SELECT claimed.* FROM claimed, LATERAL pg_notify({Database.JobEventsChannel}, {jobId.ToString()}) AS notified
            """).AsNoTracking().ToListAsync(ct);
        if (claimed.Count == 0)
        {
            if (await Deadlines.CancelIfExpiredAsync(db, jobId, ct) > 0)
                log.LogInformation("Training {JobId} was not started by its Cancel-After deadline; canceled", jobId);
            else
                log.LogInformation("Training {JobId} is finished, canceled or running on a live worker; nothing to do", jobId);
            return;
        }
        var job = claimed[0];
        var clock = Stopwatch.StartNew();
        var checkpoints = Path.GetFullPath(Path.Combine(options.Value.CheckpointRoot, "jobs", jobId.ToString("N")));
        try
        {
            var input = JsonSerializer.Deserialize<TrainingInput>(job.Input, Json) ?? throw new JobInputException("The job has no input.");
            if (input.Family != "progan") throw new JobInputException($"Family '{input.Family}' cannot be trained by a worker.");
            string dataRoot = Path.GetFullPath(datasets.Value.Root);
            if (DatasetCatalog.Describe(input.Dataset, dataRoot) is not { Fetched: true } dataset)
                throw new JobInputException($"Dataset '{input.Dataset}' is not on worker {worker}: run scripts/fetch-datasets.sh there.");
            log.LogInformation("Training {JobId} started (attempt {Attempt}): progan on {Dataset} at {Resolution} px into model {Model}",
                jobId, job.Attempts, dataset.Name, input.Resolution, job.Model);

            var (images, classes) = TrainingData.Load(dataRoot, input.Dataset, input.Sets, input.Resolution);
            classes.Dispose();
            using var _images = images;
            using var trainer = ProGanTrainer.LatestCheckpoint(checkpoints) is not null
                ? ProGanTrainer.Resume(checkpoints, executor.Device)
                : new ProGanTrainer(
                    new ProGanConfig(input.Resolution, (int)images.shape[1], input.LatentDim, input.FmapBase, input.FmapMax),
                    new ProGanTrainOptions(new ProGanSchedule(input.StableKimg, input.FadeKimg, input.Progressive), input.BatchSize, Seed: input.Seed),
                    executor.Device);
            if (trainer.Step > 0) log.LogInformation("Training {JobId} resumed from step {Step}", jobId, trainer.Step);

            if (!Train(jobId, trainer, images, checkpoints, ct)) return;

            var version = await FinishAsync(job, input, trainer, checkpoints, dataRoot, ct);
            log.LogInformation("Training {JobId} succeeded in {Minutes:F1} min: model {Model} version {Version}", jobId, clock.Elapsed.TotalMinutes, job.Model, version);
            TryDelete(checkpoints);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            log.LogInformation("Training {JobId} interrupted by shutdown; it resumes from its checkpoint", jobId);
            throw;
        }
        catch (Exception e)
        {
            bool final = e is JobInputException || job.Attempts >= options.Value.MaxAttempts;
            if (!final)
            {
                log.LogWarning(e, "Training {JobId} attempt {Attempt} failed; Hangfire will retry from the last checkpoint", jobId, job.Attempts);
                throw;
            }
            log.LogError(e, "Training {JobId} failed after {Attempts} attempts", jobId, job.Attempts);
            var problem = e is JobInputException
                ? Problems.Json("The training cannot run", e.Message, 422)
                : Problems.Json("Training failed", $"{e.GetType().Name}: {e.Message} (tried {job.Attempts} times).");
            db.ChangeTracker.Clear();
            await JobStates.FailAsync(db, jobId, problem, CancellationToken.None);
            Telemetry.JobFinished(job.Kind, job.Model, JobStatus.Failed);
            TryDelete(checkpoints);
        }
    }

    /// <summary>
    /// Trains to the schedule's end on this thread. Returns false when the job was canceled (its row left running by
    /// nobody else: the cancel endpoint already marked it). Saves a checkpoint before shutdown cancellation propagates.
    /// </summary>
    private bool Train(Guid jobId, ProGanTrainer trainer, TorchSharp.torch.Tensor images, string checkpoints, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sinceProgress = Stopwatch.StartNew();
        var sinceCheckpoint = Stopwatch.StartNew();
        var run = Stopwatch.StartNew();
        long startImages = trainer.ImagesShown;
        bool canceled = false;
        var checkpointEvery = TimeSpan.FromSeconds(Math.Max(1, options.Value.TrainingCheckpointSeconds));
        try
        {
            trainer.Train(images, new SyncProgress<ProGanProgress>(p =>
            {
                bool last = p.ImagesShown >= p.TotalImages;
                if (sinceProgress.Elapsed >= ProgressEvery || last)
                {
                    sinceProgress.Restart();
                    double ips = (p.ImagesShown - startImages) / Math.Max(run.Elapsed.TotalSeconds, 1e-9);
                    var detail = JsonSerializer.Serialize(new TrainingDetail(p.Step, p.ImagesShown / 1000.0, p.TotalImages / 1000.0,
                        p.Resolution, p.Alpha, Finite(p.LossD), Finite(p.LossG), Math.Round(ips, 1), p.SkippedSteps), Json);
                    // Progress stops at 0.99 until the version is registered.
                    double progress = Math.Min(0.99, p.Fraction);
                    int rows = db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Running)
                        .ExecuteUpdate(s => s.SetProperty(j => j.Progress, progress).SetProperty(j => j.Detail, detail));
                    if (rows == 0)
                    {
                        canceled = true;
                        stop.Cancel();
                        return;
                    }
                    JobEvents.NotifyAsync(db, jobId, CancellationToken.None).GetAwaiter().GetResult();
                }
                if (sinceCheckpoint.Elapsed >= checkpointEvery)
                {
                    trainer.SaveCheckpoint(checkpoints);
                    sinceCheckpoint.Restart();
                }
            }), ct: stop.Token);
        }
        catch (OperationCanceledException) when (canceled)
        {
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            trainer.SaveCheckpoint(checkpoints);
            throw;
        }
        if (canceled || !trainer.Done)
        {
            log.LogInformation("Training {JobId} canceled at step {Step}; nothing registered", jobId, trainer.Step);
            TryDelete(checkpoints);
            return false;
        }
        return true;
    }

    /// <summary>Evaluates, registers the version, stores the sample grid and marks the job succeeded. Returns the version.</summary>
    private async Task<string> FinishAsync(Job job, TrainingInput input, ProGanTrainer trainer, string checkpoints, string dataRoot, CancellationToken ct)
    {
        var modelDir = Path.Combine(checkpoints, "model");
        Directory.CreateDirectory(modelDir);
        var weights = Path.Combine(modelDir, "generator.safetensors");
        Weights.Save(trainer.Ema, weights);
        var manifest = new ModelManifest(
            Name: job.Model,
            Kind: JobKinds.Generation,
            Family: input.Family,
            IsDefault: false,
            Resolution: trainer.Config.FinalResolution,
            Labels: null,
            Description: $"Progressive GAN trained by GanService on {input.Dataset}{(input.Sets.Length > 0 ? $" ({string.Join(", ", input.Sets)})" : "")}, " +
                         $"{trainer.Config.FinalResolution}×{trainer.Config.FinalResolution}, {trainer.ImagesShown / 1000.0:F1} kimg, EMA generator (training job {job.Id}).",
            Weights: "generator.safetensors",
            Config: JsonSerializer.SerializeToElement(trainer.Config, ModelManifest.Json),
            Dataset: input.Dataset,
            TrainCommand: $"POST /v1/trainings {job.Input}");
        File.WriteAllText(Path.Combine(modelDir, "model.json"), JsonSerializer.Serialize(manifest, ModelManifest.Json));
        string? metrics = input.Evaluate
            ? EvalCommand.Evaluate(modelDir, manifest, dataRoot, input.Sets, Path.GetFullPath(models.Value.Root), null, TextWriter.Null, options.Value.EvaluationImages)
            : null;
        var version = await registry.RegisterAsync(manifest, weights, metrics, ct);

        byte[] grid;
        using (var g = IImageGenerator.Load(manifest.Family, manifest.Config.GetRawText(), weights))
        {
            g.Prepare(TorchSharp.torch.CPU);
            grid = SampleGrid.Render(g, TorchSharp.torch.CPU, rows: 4, perRow: 8, scale: 1);
        }
        var key = JobBlobs.Key(job.Id, "samples.png");
        await blobs.PutAsync(key, grid, "image/png", ct);
        int size = trainer.Config.FinalResolution;
        var output = new JobOutput
        {
            Id = Guid.NewGuid(), JobId = job.Id, Index = 0, BlobKey = key, ContentType = "image/png",
            Width = 8 * size, Height = 4 * size, Seed = 0, Bytes = grid.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(grid)),
        };

        var detail = JsonSerializer.Serialize(new TrainingDetail(trainer.Step, trainer.ImagesShown / 1000.0, trainer.TotalImages / 1000.0,
            size, 1.0, null, null, 0, trainer.SkippedSteps, version.Version), Json);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.JobOutputs.Where(o => o.JobId == job.Id).ExecuteDeleteAsync(ct);
        db.JobOutputs.Add(output);
        await db.SaveChangesAsync(ct);
        long runMs = (long)(DateTimeOffset.UtcNow - (job.StartedAt ?? DateTimeOffset.UtcNow)).TotalMilliseconds;
        int finished = await db.Jobs.Where(j => j.Id == job.Id && j.Status == JobStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Succeeded)
                .SetProperty(j => j.Progress, 1.0)
                .SetProperty(j => j.Detail, detail)
                .SetProperty(j => j.ModelVersionId, version.Id)
                .SetProperty(j => j.ModelVersion, version.Version)
                .SetProperty(j => j.CompletedAt, DateTimeOffset.UtcNow)
                .SetProperty(j => j.RunMs, runMs)
                .SetProperty(j => j.QueueMs, j => j.QueueMs ?? (long)(j.StartedAt!.Value - j.CreatedAt).TotalMilliseconds), ct);
        if (finished == 0)
        {
            // Canceled in the last moments: the version is registered (its weights are fine), the job stays canceled.
            await tx.RollbackAsync(ct);
            return version.Version;
        }
        await JobEvents.NotifyAsync(db, job.Id, ct);
        await tx.CommitAsync(ct);
        Telemetry.JobFinished(job.Kind, job.Model, JobStatus.Succeeded, runMs / 1000.0, 1);
        return version.Version;
    }

    private static double? Finite(double x) => double.IsFinite(x) ? Math.Round(x, 4) : null;

    private void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException e)
        {
            log.LogWarning(e, "Could not remove {Dir}", dir);
        }
    }
}
