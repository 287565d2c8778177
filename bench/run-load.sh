#!/usr/bin/env bash
# Load test: sustained job submissions with autocannon (npm, tools/node) against the Api on loopback, then a count of
# rows to prove nothing accepted was lost. A private Postgres, one worker and the Api as bench/common.sh sets them up.
#   LOAD_SECONDS (60)       how long autocannon submits
#   LOAD_CONNECTIONS (32)   concurrent connections, each sending POST /v1/generations {"count":1} back to back
#   LOAD_RATE (1000)        cap on requests/s over all connections: with LOAD_SECONDS it bounds the count
#   LOAD_DRAIN_SECONDS (900) how long to wait for the worker to finish the backlog
# Prints a Markdown table; exits non-zero if any request failed or any accepted job is missing, unfinished or
# without its output. autocannon drops the answers in flight at its deadline, so up to one job per connection may be
# written without a 202 having been read: rows may exceed the 202s by that much, never fall short.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
seconds="${LOAD_SECONDS:-60}" connections="${LOAD_CONNECTIONS:-32}" rate="${LOAD_RATE:-1000}" drain="${LOAD_DRAIN_SECONDS:-900}"
ensure_node_tools
bench_setup
start_worker
psql_bench() { psql -h 127.0.0.1 -p "$bench_port" -U postgres -d bench -tAc "$1"; }
for _ in $(seq 1 120); do [ "$(psql_bench "SELECT count(*) FROM workers WHERE heartbeat_at > now() - interval '30 s'")" -ge 1 ] && break; sleep 0.5; done

out="$root/.data/load"; mkdir -p "$out"
log "autocannon: $connections connections, ${seconds} s, at most $rate requests/s, POST /v1/generations"
"$GANSERVICE_NODE_TOOLS/autocannon" --json -c "$connections" -d "$seconds" -R "$rate" -m POST \
  -H "Authorization=Bearer $BENCH_KEY" -H "Content-Type=application/json" -b '{"count":1}' \
  "$BENCH_URL/v1/generations" > "$out/autocannon.json" 2> "$out/autocannon.log"
submitted_at=$(date +%s)

# Drain: every job the Api wrote must finish.
while :; do
  left=$(psql_bench "SELECT count(*) FROM jobs WHERE status IN ('queued','running')")
  [ "$left" -eq 0 ] && break
  if [ $(( $(date +%s) - submitted_at )) -ge "$drain" ]; then log "$left jobs still unfinished after ${drain} s"; break; fi
  sleep 2
done
drained=$(( $(date +%s) - submitted_at ))

rows=$(psql_bench "SELECT count(*) FROM jobs")
succeeded=$(psql_bench "SELECT count(*) FROM jobs WHERE status = 'succeeded'")
outputs=$(psql_bench "SELECT count(*) FROM job_outputs")
run_p50=$(psql_bench "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY run_ms)::numeric, 1) FROM jobs WHERE status = 'succeeded'")
node - "$out/autocannon.json" "$rows" "$succeeded" "$outputs" "$drained" "$run_p50" "$connections" "$seconds" <<'JS'
const [file, rows, succeeded, outputs, drained, runP50, connections, seconds] = process.argv.slice(2);
const r = JSON.parse(require('fs').readFileSync(file, 'utf8'));
const accepted = (r.statusCodeStats?.['202']?.count) ?? r['2xx'];
const other = Object.entries(r.statusCodeStats ?? {}).filter(([code]) => code !== '202').map(([code, s]) => `${code}×${s.count}`);
const errors = r.errors + r.timeouts + r.non2xx;
const lat = r.latency;
console.log(`\n| measurement | value |\n| --- | ---: |`);
console.log(`| connections × seconds | ${connections} × ${r.duration.toFixed(1)} |`);
console.log(`| requests answered / answered 202 (accepted) | ${r.requests.total} / ${accepted} |`);
console.log(`| requests/s (mean; p50 of 1 s samples) | ${r.requests.average.toFixed(1)}; ${r.requests.p50} |`);
console.log(`| latency ms p50 / p90 / p99 / max | ${lat.p50} / ${lat.p90} / ${lat.p99} / ${lat.max} |`);
console.log(`| errors (connection errors + timeouts + non-2xx) | ${errors} (${r.errors} + ${r.timeouts} + ${r.non2xx}${other.length ? ': ' + other.join(', ') : ''}) |`);
console.log(`| jobs rows / succeeded / output rows | ${rows} / ${succeeded} / ${outputs} |`);
console.log(`| backlog drained (s after the last submission) | ${drained} |`);
console.log(`| worker run time per job, p50 ms | ${runP50} |`);
// autocannon stops at the deadline without reading the answers still in flight (at most one per connection): the
// Api may have written those jobs, so rows may exceed the 202s by up to the connection count, never fall short.
const unread = Number(rows) - Number(accepted);
const ok = errors === 0 && unread >= 0 && unread <= Number(connections) && Number(succeeded) === Number(rows) && Number(outputs) === Number(rows);
console.log(`\n${ok ? 'PASS' : 'FAIL'}: ${errors} errors; ${accepted} answered 202, ${rows} jobs written (${unread} in flight at the stop, ` +
  `at most ${connections} allowed; ${unread < 0 ? -unread : 0} lost), ${succeeded} succeeded, ${outputs} outputs`);
process.exit(ok ? 0 : 1);
JS
