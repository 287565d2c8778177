using Microsoft.EntityFrameworkCore;

namespace GanService.Core.Data;

public sealed class GanDbContext(DbContextOptions<GanDbContext> options) : DbContext(options)
{
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobOutput> JobOutputs => Set<JobOutput>();
    public DbSet<ModelRecord> Models => Set<ModelRecord>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<WorkerRecord> Workers => Set<WorkerRecord>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Job>(e =>
        {
            e.ToTable("jobs");
            e.Property(j => j.Input).HasColumnType("jsonb");
            e.Property(j => j.Error).HasColumnType("jsonb");
            e.Property(j => j.Detail).HasColumnType("jsonb");
            e.HasMany(j => j.Outputs).WithOne().HasForeignKey(o => o.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(j => new { j.ApiKeyId, j.IdempotencyKey }).IsUnique().HasFilter("idempotency_key IS NOT NULL");
            e.HasIndex(j => new { j.ApiKeyId, j.CreatedAt, j.Id });
            // The reconciler's and the queue position's lookups.
            e.HasIndex(j => new { j.Status, j.CreatedAt });
            // The per-key cap on queued jobs counts these.
            e.HasIndex(j => j.ApiKeyId).HasFilter("status = 'queued'").HasDatabaseName("ix_jobs_api_key_id_queued");
            // The retention sweep's scan: finished jobs whose outputs are still kept.
            e.HasIndex(j => j.CompletedAt).HasFilter("expired_at IS NULL AND completed_at IS NOT NULL").HasDatabaseName("ix_jobs_retention");
        });
        b.Entity<JobOutput>(e =>
        {
            e.ToTable("job_outputs");
            e.HasIndex(o => new { o.JobId, o.Index }).IsUnique();
        });
        b.Entity<ModelRecord>(e =>
        {
            e.ToTable("models");
            e.HasKey(m => m.Name);
            e.HasMany(m => m.Versions).WithOne().HasForeignKey(v => v.ModelName).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<ModelVersion>(e =>
        {
            e.ToTable("model_versions");
            e.Property(v => v.Config).HasColumnType("jsonb");
            e.Property(v => v.Metrics).HasColumnType("jsonb");
            e.HasIndex(v => new { v.ModelName, v.Version }).IsUnique();
        });
        b.Entity<WorkerRecord>(e =>
        {
            e.ToTable("workers");
            e.Property(w => w.LoadedModels).HasColumnType("jsonb");
        });
        b.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Job>().WithMany().HasForeignKey(d => d.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(d => d.JobId);
            // The dispatcher's scan: due, undelivered rows only.
            e.HasIndex(d => d.NextAttemptAt).HasFilter("status = 'pending'").HasDatabaseName("ix_webhook_deliveries_due");
        });
        b.Entity<WebhookAttempt>(e =>
        {
            e.ToTable("webhook_attempts");
            e.HasIndex(a => new { a.DeliveryId, a.Attempt });
        });
        b.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasIndex(k => k.Hash).IsUnique();
        });
    }
}
