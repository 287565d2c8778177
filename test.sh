#!/usr/bin/env bash
# Runs every test against real parts: a private PostgreSQL (its own cluster under .data/test-pg, port 55433),
# real HTTP, real worker processes, real TorchSharp. Prints "N passed, N failed" last.
# An optional argument is a `dotnet test --filter` expression, for working on a few tests:
#   ./test.sh 'FullyQualifiedName~Batching'
set -euo pipefail
cd "$(dirname "$0")"
root="$PWD"
source scripts/lib.sh

pg_port="${GANSERVICE_TEST_PG_PORT:-55433}"
pg_dir=.data/test-pg
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

cleanup() { if [ "${PG_STARTED:-0}" = 1 ]; then stop_cluster "$pg_dir"; fi; }
trap cleanup EXIT

ensure_postgres
ensure_node_tools
ensure_ffmpeg
./scripts/fetch-datasets.sh
# A fresh cluster each run: tests never see an earlier run's rows. fsync off: it is throw-away.
stop_cluster "$pg_dir"; [ -L "$pg_dir" ] && rm -rf "$(readlink -f "$pg_dir")"; rm -rf "$pg_dir"
PG_FSYNC=off start_cluster "$pg_dir" "$pg_port"
export GANSERVICE_TEST_PG="Host=127.0.0.1;Port=$pg_port;Username=postgres"
export GANSERVICE_TEST_PG_BIN="$PGBIN" GANSERVICE_TEST_PG_DIR="$root/$pg_dir"

log "Building"
dotnet build GanService.sln -c Debug -v quiet -nologo -clp:ErrorsOnly

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0
filter=(); if [ $# -gt 0 ]; then filter=(--filter "$1"); fi
for project in tests/*/*.csproj; do
  name="$(basename "$project" .csproj)"
  log "Testing $name"
  dotnet test "$project" --no-build -c Debug -nologo "${filter[@]}" \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=normal" 2>&1 | tee "$results/$name.log" || status=1
done

# Failures again, just above the closing line, so that a log cut to its last lines still names them.
failures() {
  local f
  for f in "$results"/*.log; do
    [ -f "$f" ] || continue
    awk '/^  Failed /{n=24} /^  (Passed|Skipped) /{n=0} n>0{print; n--}' "$f"
  done
}
if [ "$status" -ne 0 ]; then echo "==> Failed tests (first lines of each):"; failures; fi

# The closing line CI reads: totals over every test project.
summarize() {
  local passed=0 failed=0 skipped=0 f p x s
  for f in "$results"/*.trx; do
    [ -f "$f" ] || continue
    p=$(grep -o 'passed="[0-9]*"' "$f" | head -1 | tr -dc 0-9); x=$(grep -o 'failed="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
    s=$(grep -o 'notExecuted="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
    passed=$((passed + ${p:-0})); failed=$((failed + ${x:-0})); skipped=$((skipped + ${s:-0}))
  done
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "$passed passed, $failed failed, $skipped skipped"
}
summarize
exit "$status"
