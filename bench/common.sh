# Shared by the bench scripts (source it from the repository root): a private Postgres on port 55434
# (.data/bench-pg, thrown away after), Release builds, migrations, and the Api on 127.0.0.1:5090.
# Sets: bin, pids (stopped on exit), BENCH_URL, BENCH_KEY, BENCH_PG, BENCH_WEIGHTS. Loopback only.
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
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$bench_port;Username=postgres;Database=bench;Maximum Pool Size=${BENCH_POOL:-60}"
  export Auth__BootstrapKey="gsk_bench$(random_token 24)" Storage__SigningKey="$(random_token 48)"
  export Storage__Root="$root/.data/bench-blobs" Models__Root="$root/models" Serilog__MinimumLevel__Default=Warning
  # One key drives all the load: the per-key limits (Api:RateLimit*, Api:MaxQueuedJobsPerKey) would measure themselves.
  export Api__RateLimitPerSecond=1000000 Api__RateLimitBurst=1000000 Api__MaxQueuedJobsPerKey=0
  dotnet build src/Workers -c Release -v quiet -nologo -clp:ErrorsOnly
  dotnet build src/Api -c Release -v quiet -nologo -clp:ErrorsOnly
  dotnet build bench/GanService.Bench -c Release -v quiet -nologo -clp:ErrorsOnly
  bin="$root/artifacts/bin"
  dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" migrate >/dev/null
  dotnet "$bin/GanService.Api/release/GanService.Api.dll" --urls http://127.0.0.1:5090 >/dev/null & pids+=($!)
  for _ in $(seq 1 120); do curl -fsS http://127.0.0.1:5090/health/ready >/dev/null 2>&1 && break; sleep 0.5; done
  export BENCH_URL=http://127.0.0.1:5090 BENCH_KEY="$Auth__BootstrapKey" BENCH_PG="$ConnectionStrings__Postgres"
  export BENCH_WEIGHTS="$root/models/dcgan-fashion/generator.safetensors"
}

# start_worker [VAR=value ...]: one worker process with extra environment; its pid in $worker_pid.
start_worker() {
  env "$@" dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" run >/dev/null & worker_pid=$!
  pids+=("$worker_pid")
}

stop_worker() { kill -TERM "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true; }

bench() { dotnet "$bin/GanService.Bench/release/GanService.Bench.dll" "$@"; }
