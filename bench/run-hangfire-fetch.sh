#!/usr/bin/env bash
# Wedged Hangfire deliveries (bench/GanService.Bench/HangfireFetchBench.cs): a private Postgres only (no Api, no
# worker), then `bench hangfire-fetch [blocks] [jobs per block] [fetching threads] [keepalive s] [rescue s]`, which
# alternates the Npgsql keepalive off and on in blocks and prints a Markdown table. Loopback only.
#   BENCH_BURN=N: N more threads spinning on the CPU meanwhile (the race needs a preempted thread).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
port=55435; dir=.data/bench-hf-pg
trap 'stop_cluster "$dir"' EXIT
ensure_postgres
stop_cluster "$dir"; [ -L "$dir" ] && rm -rf "$(readlink -f "$dir")"; rm -rf "$dir"
PG_FSYNC=off start_cluster "$dir" "$port"   # the queue is measured, not the disk
create_database "$port" bench
dotnet build bench/GanService.Bench -c Release -v quiet -nologo -clp:ErrorsOnly
BENCH_PG="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench" \
  dotnet artifacts/bin/GanService.Bench/release/GanService.Bench.dll hangfire-fetch "$@"
