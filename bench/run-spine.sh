#!/usr/bin/env bash
# Spine benchmark: starts a private Postgres (port 55434, .data/bench-pg), migrations, one worker and the Api on
# 127.0.0.1:5090 (Release builds), runs bench/GanService.Bench against them, prints a Markdown table, stops all.
# Loopback only; bounded by BENCH_PICKUPS, BENCH_ROUNDTRIPS and BENCH_LOAD_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/lib.sh
port=55434; dir=.data/bench-pg
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; stop_cluster "$dir"; }
trap cleanup EXIT
ensure_postgres
stop_cluster "$dir"; [ -L "$dir" ] && rm -rf "$(readlink -f "$dir")"; rm -rf "$dir"
start_cluster "$dir" "$port"
create_database "$port" bench
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench;Maximum Pool Size=60"
export Auth__BootstrapKey="gsk_bench$(random_token 24)" Storage__SigningKey="$(random_token 48)"
export Storage__Root="$root/.data/bench-blobs" Models__Root="$root/models" Serilog__MinimumLevel__Default=Warning
dotnet build src/Workers -c Release -v quiet -nologo -clp:ErrorsOnly
dotnet build src/Api -c Release -v quiet -nologo -clp:ErrorsOnly
dotnet build bench/GanService.Bench -c Release -v quiet -nologo -clp:ErrorsOnly
bin="$root/artifacts/bin"
dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" migrate >/dev/null
dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" run >/dev/null & pids+=($!)
dotnet "$bin/GanService.Api/release/GanService.Api.dll" --urls http://127.0.0.1:5090 >/dev/null & pids+=($!)
for _ in $(seq 1 120); do curl -fsS http://127.0.0.1:5090/health/ready >/dev/null 2>&1 && break; sleep 0.5; done
BENCH_URL=http://127.0.0.1:5090 BENCH_KEY="$Auth__BootstrapKey" BENCH_PG="$ConnectionStrings__Postgres" \
BENCH_WEIGHTS="$root/models/dcgan-fashion/generator.safetensors" \
  dotnet "$bin/GanService.Bench/release/GanService.Bench.dll"
