using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Retention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "expired_at",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_jobs_retention",
                table: "jobs",
                column: "completed_at",
                filter: "expired_at IS NULL AND completed_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_jobs_retention",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "expired_at",
                table: "jobs");
        }
    }
}
