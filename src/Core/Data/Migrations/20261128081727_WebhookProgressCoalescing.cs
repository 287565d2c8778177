using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class WebhookProgressCoalescing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A progress event waits while any earlier one is still pending, not only one never tried: a training
            // writes progress every 2 s, and with a receiver down each write used to start its own retry series.
            migrationBuilder.Sql(Function(""));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Function(" AND attempts = 0"));
        }

        private static string Function(string progressPending) => $$"""
            CREATE OR REPLACE FUNCTION jobs_webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
              evt text := NULL;
            BEGIN
              IF NEW.webhook_url IS NULL THEN RETURN NULL; END IF;
              IF NEW.status IN ('succeeded', 'failed', 'canceled') AND OLD.status NOT IN ('succeeded', 'failed', 'canceled') THEN
                IF 'completed' = ANY(NEW.webhook_events) THEN evt := 'completed'; END IF;
              ELSIF NEW.status = 'running' AND OLD.status <> 'running' THEN
                IF 'start' = ANY(NEW.webhook_events)
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE job_id = NEW.id AND event = 'start') THEN
                  evt := 'start';
                END IF;
              ELSIF NEW.status = 'running' AND NEW.progress > OLD.progress AND 'progress' = ANY(NEW.webhook_events)
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries
                                 WHERE job_id = NEW.id AND event = 'progress' AND status = 'pending'{{progressPending}}) THEN
                evt := 'progress';
              END IF;
              IF evt IS NOT NULL THEN
                INSERT INTO webhook_deliveries (id, job_id, api_key_id, event, url, status, attempts, created_at, next_attempt_at)
                VALUES (gen_random_uuid(), NEW.id, NEW.api_key_id, evt, NEW.webhook_url, 'pending', 0, now(), now());
              END IF;
              RETURN NULL;
            END $$;
            """;
    }
}
