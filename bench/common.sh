# Shared by the bench scripts (source it from the repository root): a private Postgres on port 55434
# (.data/bench-pg, thrown away after), Release builds, migrations, and the Api on 127.0.0.1:5090.
# Sets: bin, pids (stopped on exit), api_pid, BENCH_URL, BENCH_KEY, BENCH_PG, BENCH_WEIGHTS. Loopback only.
source scripts/lib.sh
root="$PWD"
bench_port=55434; bench_dir=.data/bench-pg
pids=()
bench_cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; stop_cluster "$bench_dir"; }
trap bench_cleanup EXIT

bench_setup() {
  ensure_postgres
  stop_cluster "$bench_dir"; [ -L "$bench_dir" ] && rm -rf "$(readlink -f "$bench_dir")"; rm -rf "$bench_dir" "$root/.data/bench-blobs"
  start_cluster "$bench_dir" "$bench_port"
  create_database "$bench_port" bench
  # BENCH_SETUP_SQL: statements a bench needs in the database before anything connects (roles, extensions).
  if [ -n "${BENCH_SETUP_SQL:-}" ]; then psql -h 127.0.0.1 -p "$bench_port" -U postgres -d bench -qc "$BENCH_SETUP_SQL"; fi
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$bench_port;Username=postgres;Database=bench;Maximum Pool Size=${BENCH_POOL:-60}"
  export Auth__BootstrapKey="gsk_bench$(random_token 24)" Storage__SigningKey="$(random_token 48)"
  export Storage__Root="$root/.data/bench-blobs" Models__Root="$root/models" Serilog__MinimumLevel__Default="${Serilog__MinimumLevel__Default:-Warning}"
  # One key drives all the load: the per-key limits (Api:RateLimit*, Api:MaxQueuedJobsPerKey) would measure themselves.
  export Api__RateLimitPerSecond=1000000 Api__RateLimitBurst=1000000 Api__MaxQueuedJobsPerKey=0
  dotnet build src/Workers -c Release -v quiet -nologo -clp:ErrorsOnly
  dotnet build src/Api -c Release -v quiet -nologo -clp:ErrorsOnly
  dotnet build bench/GanService.Bench -c Release -v quiet -nologo -clp:ErrorsOnly
  bin="$root/artifacts/bin"
  dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" migrate >/dev/null
  start_api
  export BENCH_URL=http://127.0.0.1:5090 BENCH_KEY="$Auth__BootstrapKey" BENCH_PG="$ConnectionStrings__Postgres"
  export BENCH_WEIGHTS="$root/models/dcgan-fashion/generator.safetensors"
}

# start_api [VAR=value ...]: the Api on 127.0.0.1:5090 with extra environment, once it answers /health/ready; its pid in
# $api_pid. BENCH_API_ROLE: the Postgres role it connects as (the capacity bench tells its statements from the workers').
start_api() {
  env ConnectionStrings__Postgres="${ConnectionStrings__Postgres/Username=postgres/Username=${BENCH_API_ROLE:-postgres}}" "$@" \
    dotnet "$bin/GanService.Api/release/GanService.Api.dll" --urls http://127.0.0.1:5090 >>"${BENCH_API_LOG:-/dev/null}" & api_pid=$!
  pids+=("$api_pid")
  for _ in $(seq 1 120); do curl -fsS http://127.0.0.1:5090/health/ready >/dev/null 2>&1 && break; sleep 0.5; done
}

stop_api() { kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }

# start_worker [VAR=value ...]: one worker process with extra environment; its pid in $worker_pid.
start_worker() {
  env "$@" dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" run >>"${BENCH_WORKER_LOG:-/dev/null}" & worker_pid=$!
  pids+=("$worker_pid")
}

stop_worker() { kill -TERM "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true; }

bench() { dotnet "$bin/GanService.Bench/release/GanService.Bench.dll" "$@"; }
