#!/usr/bin/env bash
# GPU-worker benchmark on whatever device the worker finds (CPU here): raw forward throughput at batch 1–256; service
# jobs/s and Prefer: wait latency with 1, 8 and 64 concurrent single-image clients, dynamic batching on vs off, in
# BENCH_ROUNDS alternating rounds against one Postgres and one Api (a fresh worker per round and setting); then the
# worker's memory over 10,000 jobs. Both settings use the same worker (64 Hangfire threads, the default device).
# Loopback only; bounded by BENCH_ROUNDS (2), BENCH_SECONDS per client count (10) and BENCH_MEMORY_JOBS (10000).
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_POOL=200
source bench/common.sh
bench_setup
export BENCH_RESULTS="$root/.data/bench-batching.jsonl"; rm -f "$BENCH_RESULTS" "$BENCH_RESULTS.forward"
bench forward

common=(Worker__Concurrency=64 "ConnectionStrings__Postgres=$ConnectionStrings__Postgres")
for round in $(seq 1 "${BENCH_ROUNDS:-2}"); do
  for setting in on off; do
    enabled=true; [ "$setting" = off ] && enabled=false
    start_worker "${common[@]}" Worker__Batching__Enabled=$enabled
    BENCH_TAG=$setting BENCH_ROUND=$round bench clients
    stop_worker
  done
done
echo
bench report
echo
start_worker "${common[@]}" Worker__Batching__Enabled=true
BENCH_WORKER_PID=$worker_pid bench memory
stop_worker
