#!/usr/bin/env bash
# Runs GanService locally: a private Postgres under .data/ (unless ConnectionStrings__Postgres is set), migrations,
# the Workers process and the Api. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")"
root="$PWD"
source scripts/lib.sh

urls="${GANSERVICE_URLS:-http://localhost:5080}"
pg_port="${GANSERVICE_PG_PORT:-55432}"
mkdir -p .data

pids=()
cleanup() {
  trap - INT TERM EXIT
  # Keep going whatever happens to our output: with `./run.sh | tee log`, Ctrl-C ends tee first, and a write to the
  # broken pipe must not stop the clean-up before Postgres is stopped.
  trap '' PIPE; set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${PG_STARTED:-0}" = 1 ]; then log "Stopping PostgreSQL" 2>/dev/null; stop_cluster .data/pg; fi
}
trap cleanup INT TERM EXIT

command -v curl >/dev/null || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
ensure_ffmpeg

if [ -z "${ConnectionStrings__Postgres:-}" ]; then
  ensure_postgres
  start_cluster .data/pg "$pg_port"
  create_database "$pg_port" ganservice
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=ganservice;Maximum Pool Size=50"
fi

# Secrets made once and kept in .data/ (never committed), unless given in the environment.
if [ ! -f .data/secrets.env ]; then
  umask 077
  printf 'BOOTSTRAP_KEY=gsk_%s\nSIGNING_KEY=%s\n' "$(random_token 32)" "$(random_token 48)" > .data/secrets.env
fi
# shellcheck disable=SC1091
source .data/secrets.env
export Auth__BootstrapKey="${Auth__BootstrapKey:-$BOOTSTRAP_KEY}"
export Storage__SigningKey="${Storage__SigningKey:-$SIGNING_KEY}"
export Storage__Root="${Storage__Root:-$root/.data/blobs}"
export Models__Root="${Models__Root:-$root/models}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log "Building (Release)"
dotnet build src/Workers/GanService.Workers.csproj -c Release -v quiet -nologo -clp:ErrorsOnly
dotnet build src/Api/GanService.Api.csproj -c Release -v quiet -nologo -clp:ErrorsOnly
bin="$root/artifacts/bin"

log "Applying migrations and registering the shipped models"
dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" migrate

base="${urls%%;*}"
base="${base/\/\/0.0.0.0/\/\/localhost}"
base="${base/\/\/\*/\/\/localhost}"
base="${base/\/\/+/\/\/localhost}"
# Links inside webhook bodies point at the API (workers make them).
export Webhooks__PublicBaseUrl="${Webhooks__PublicBaseUrl:-$base}"
# The worker's Prometheus scrape endpoint (the API's is $base/metrics).
export Worker__MetricsPort="${Worker__MetricsPort:-9464}" Worker__MetricsHost="${Worker__MetricsHost:-localhost}"

log "Starting the worker"
dotnet "$bin/GanService.Workers/release/GanService.Workers.dll" run & pids+=($!)
log "Starting the API on $urls"
dotnet "$bin/GanService.Api/release/GanService.Api.dll" --urls "$urls" & pids+=($!)

for _ in $(seq 1 120); do
  if curl -fsS "$base/health/ready" >/dev/null 2>&1; then break; fi
  sleep 0.5
done

cat <<BANNER

  GanService is up.
    Swagger UI : $base/swagger
    API key    : $Auth__BootstrapKey   (Authorize → paste it)
    Metrics    : $base/metrics (API), http://$Worker__MetricsHost:$Worker__MetricsPort/metrics (worker)
    Try        : curl -s -H "Authorization: Bearer $Auth__BootstrapKey" -H "Prefer: wait=10" \\
                   -H "Content-Type: application/json" -d '{"label":"sneaker","count":4,"seed":42}' $base/v1/generations

  Ctrl-C stops the API, the worker and the database.

BANNER

# Stop everything as soon as either process ends.
wait -n "${pids[@]}"
