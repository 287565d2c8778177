using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace GanService.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Webhooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string[]>(
                name: "webhook_events",
                table: "jobs",
                type: "text[]",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "webhook_url",
                table: "jobs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "webhook_secret",
                table: "api_keys",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    api_key_id = table.Column<Guid>(type: "uuid", nullable: false),
                    @event = table.Column<string>(name: "event", type: "text", nullable: false),
                    url = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    locked_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    payload = table.Column<string>(type: "text", nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_status_code = table.Column<int>(type: "integer", nullable: true),
                    last_error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_deliveries_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_attempts",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    delivery_id = table.Column<Guid>(type: "uuid", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    duration_ms = table.Column<long>(type: "bigint", nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_attempts", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_attempts_webhook_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "webhook_deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_attempts_delivery_id_attempt",
                table: "webhook_attempts",
                columns: new[] { "delivery_id", "attempt" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_due",
                table: "webhook_deliveries",
                column: "next_attempt_at",
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_job_id",
                table: "webhook_deliveries",
                column: "job_id");

            // Events are recorded by the database, in the transaction that changes the job, wherever the change comes
            // from (a worker, the reconciler, a cancel): none is lost and none needs the writer's cooperation.
            // start: once per job; completed: on entering a terminal state; progress: only when no earlier progress
            // event is still waiting for its first attempt (that one will carry the newest figures).
            migrationBuilder.Sql("""
                CREATE FUNCTION jobs_webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
                                     WHERE job_id = NEW.id AND event = 'progress' AND status = 'pending' AND attempts = 0) THEN
                    evt := 'progress';
                  END IF;
                  IF evt IS NOT NULL THEN
                    INSERT INTO webhook_deliveries (id, job_id, api_key_id, event, url, status, attempts, created_at, next_attempt_at)
                    VALUES (gen_random_uuid(), NEW.id, NEW.api_key_id, evt, NEW.webhook_url, 'pending', 0, now(), now());
                  END IF;
                  RETURN NULL;
                END $$;
                CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF status, progress ON jobs
                  FOR EACH ROW EXECUTE FUNCTION jobs_webhook_events();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER jobs_webhook_events ON jobs; DROP FUNCTION jobs_webhook_events();");

            migrationBuilder.DropTable(
                name: "webhook_attempts");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropColumn(
                name: "webhook_events",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "webhook_url",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "webhook_secret",
                table: "api_keys");
        }
    }
}
