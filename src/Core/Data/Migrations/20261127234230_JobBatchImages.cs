using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class JobBatchImages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "batch_images",
                table: "jobs",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "batch_images",
                table: "jobs");
        }
    }
}
