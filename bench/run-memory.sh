#!/usr/bin/env bash
# The worker's memory over BENCH_MEMORY_JOBS (10000) single-image jobs from 64 clients after BENCH_MEMORY_WARMUP (1000),
# once per setting in BENCH_MEMORY_SETTINGS (default: "default arena2"), in turn, against one Postgres and one Api:
#   default  the worker as run.sh starts it;
#   arena2   MALLOC_ARENA_MAX=2 (glibc keeps at most two malloc arenas instead of 8 per core for 64+ threads).
# Any other setting is taken as VAR=value[,VAR=value...] for the worker's environment. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_POOL=200
source bench/common.sh
bench_setup
for setting in ${BENCH_MEMORY_SETTINGS:-default arena2}; do
  case "$setting" in
    default) extra=() ;;
    arena2) extra=(MALLOC_ARENA_MAX=2) ;;
    *) IFS=, read -r -a extra <<<"$setting" ;;
  esac
  echo "== worker memory, setting $setting ${extra[*]:-}"
  start_worker Worker__Concurrency=64 Worker__MetricsPort=55491 "ConnectionStrings__Postgres=$ConnectionStrings__Postgres" ${extra[@]+"${extra[@]}"}
  BENCH_WORKER_PID=$worker_pid BENCH_WORKER_METRICS=http://127.0.0.1:55491/metrics bench memory
  stop_worker
done
