using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace GanService.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class JobDetail : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "detail",
                table: "jobs",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "detail",
                table: "jobs");
        }
    }
}
