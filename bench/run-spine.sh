#!/usr/bin/env bash
# Spine benchmark: a private Postgres, migrations, one worker and the Api (bench/common.sh), then queue pickup
# latency, Prefer: wait round trip beside the bare forward, and sustained submissions; prints a Markdown table.
# Loopback only; bounded by BENCH_PICKUPS, BENCH_ROUNDTRIPS and BENCH_LOAD_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench_setup
start_worker
bench spine
