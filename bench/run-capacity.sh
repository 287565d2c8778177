#!/usr/bin/env bash
# Capacity model: what one job costs Postgres (statements by role and origin, commits, WAL, rows and bytes kept), the
# Api and the workers (CPU from /proc); jobs/s with 1, 2 and 4 worker processes on one Postgres; what idle workers cost;
# a worker's per-image work outside Postgres; a fresh Api's first burst with and without Api__MinThreads; and, side by side in the same run, two changes to the database traffic:
#   noreset  connection strings with "No Reset On Close=true" (no DISCARD ALL each time a pooled connection is returned)
#   split    Hangfire's queue on a second Postgres server (ConnectionStrings__Queue, port 55435), so each server's
#            CPU, statements, commits and WAL per job are measured apart
# Private Postgres servers with pg_stat_statements (.data/bench-pg, .data/bench-pg-queue, thrown away after); the Api
# connects as role ganapi, workers as ganworker. Loopback only.
#   CAPACITY_WORKERS ("1 2 4")          worker processes per default window (each Worker__Concurrency=8, batching on)
#   CAPACITY_VARIANT_WORKERS ("1 2")    worker processes per variant window
#   CAPACITY_CLIENTS (32)               closed-loop single-image Prefer: wait clients
#   CAPACITY_SECONDS (30)               window length; CAPACITY_IDLE_SECONDS (20) the idle windows
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=2000"
setup_sql="CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE ROLE ganapi SUPERUSER LOGIN; CREATE ROLE ganworker SUPERUSER LOGIN;"
export BENCH_SETUP_SQL="$setup_sql" BENCH_API_ROLE=ganapi BENCH_POOL=100
source bench/common.sh
queue_port=55435 queue_dir=.data/bench-pg-queue
trap 'bench_cleanup; stop_cluster "$queue_dir"' EXIT
bench_setup
export BENCH_RESULTS="$root/.data/bench-capacity.jsonl" BENCH_PG_DIR="$(cd "$bench_dir" && pwd -P)"
export BENCH_BLOBS="$root/.data/bench-blobs" BENCH_CLIENTS="${CAPACITY_CLIENTS:-32}"
rm -f "$BENCH_RESULTS"
main_conn="$ConnectionStrings__Postgres"
psql_bench() { psql -h 127.0.0.1 -p "$bench_port" -U postgres -d bench -tAc "$1"; }

# window VARIANT N [VAR=value ...]: N workers with the environment given (the Api already set up to match), an idle
# window (default variant only), then the loaded one; the workers stop after.
window() {
  local variant="$1" n="$2"; shift 2
  local since running=()
  since=$(psql_bench "SELECT now()")
  for _ in $(seq 1 "$n"); do start_worker "$@"; running+=("$worker_pid"); done
  # Every worker has warmed its models and written its heartbeat row.
  for _ in $(seq 1 240); do [ "$(psql_bench "SELECT count(*) FROM workers WHERE started_at >= '$since'")" -ge "$n" ] && break; sleep 0.5; done
  export BENCH_WORKER_PIDS="${running[*]}" BENCH_WORKERS="$n" BENCH_VARIANT="$variant" BENCH_API_PID="$api_pid"
  if [ "$variant" = default ]; then BENCH_TAG="idle-$n" BENCH_SECONDS="${CAPACITY_IDLE_SECONDS:-20}" bench capacity-idle; fi
  BENCH_TAG="$variant-$n" BENCH_SECONDS="${CAPACITY_SECONDS:-30}" bench capacity-window
  for p in "${running[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${running[@]}"; do wait "$p" 2>/dev/null || true; done
}
as_role() { local conn="${1/Username=postgres/Username=$2}"; printf '%s' "$conn"; }

bench capacity-parts
echo

# A fresh Api's first burst, with the thread-pool minimum at .NET's default (0: one thread per core) and ours (128).
rm -f "$BENCH_RESULTS.cold"
start_worker "ConnectionStrings__Postgres=$(as_role "$main_conn" ganworker)"; cold_worker=$worker_pid
for _ in $(seq 1 240); do [ "$(psql_bench "SELECT count(*) FROM workers")" -ge 1 ] && break; sleep 0.5; done
for round in 1 2; do
  for threads in 0 128; do
    stop_api; start_api "Api__MinThreads=$threads"
    BENCH_TAG="Api__MinThreads=$threads" bench capacity-cold
  done
done
kill -TERM "$cold_worker"; wait "$cold_worker" 2>/dev/null || true
stop_api; start_api
echo

# Default: one Postgres for everything.
for n in ${CAPACITY_WORKERS:-1 2 4}; do window default "$n" "ConnectionStrings__Postgres=$(as_role "$main_conn" ganworker)"; done

# noreset: the same, without DISCARD ALL on every pooled connection's return.
stop_api
start_api "ConnectionStrings__Postgres=$(as_role "$main_conn" ganapi);No Reset On Close=true"
for n in ${CAPACITY_VARIANT_WORKERS:-1 2}; do window noreset "$n" "ConnectionStrings__Postgres=$(as_role "$main_conn" ganworker);No Reset On Close=true"; done

# split: Hangfire on its own server.
stop_cluster "$queue_dir"; [ -L "$queue_dir" ] && rm -rf "$(readlink -f "$queue_dir")"; rm -rf "$queue_dir"
start_cluster "$queue_dir" "$queue_port"
create_database "$queue_port" queue
psql -h 127.0.0.1 -p "$queue_port" -U postgres -d queue -qc "$setup_sql"
queue_conn="Host=127.0.0.1;Port=$queue_port;Username=postgres;Database=queue;Maximum Pool Size=${BENCH_POOL}"
ConnectionStrings__Queue="$queue_conn" dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" migrate >/dev/null
export BENCH_QUEUE_PG="$queue_conn" BENCH_QUEUE_PG_DIR="$(cd "$queue_dir" && pwd -P)"
stop_api
start_api "ConnectionStrings__Queue=$(as_role "$queue_conn" ganapi)"
for n in ${CAPACITY_VARIANT_WORKERS:-1 2}; do
  window split "$n" "ConnectionStrings__Postgres=$(as_role "$main_conn" ganworker)" "ConnectionStrings__Queue=$(as_role "$queue_conn" ganworker)"
done
echo
bench capacity-report
left=$(psql_bench "SELECT count(*) FROM jobs WHERE status <> 'succeeded'")
echo; echo "jobs not succeeded at the end: $left"
[ "$left" -eq 0 ]
