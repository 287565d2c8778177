# Shared by run.sh and test.sh: a private PostgreSQL cluster under .data/, installed from the distribution if missing.
# shellcheck shell=bash

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_postgres() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    log "Installing PostgreSQL from the distribution's packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  PGBIN="$(pg_bin)"
  export PGBIN
}

# ffmpeg from the distribution, for mp4 videos (workers without it write gif and webp only).
ensure_ffmpeg() {
  if ! command -v ffmpeg >/dev/null; then
    log "Installing ffmpeg from the distribution's packages (mp4 videos)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
  fi
}

# Runs a PostgreSQL program as the cluster's owner: initdb and postgres refuse to run as root.
# Runs from / so that a checkout the postgres user cannot enter is not its working directory; pass absolute paths.
pg_run() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# start_cluster DIR PORT: initialises DIR on first use, starts it on 127.0.0.1:PORT unless already running.
# PG_EXTRA_OPTS: more server settings ("-c name=value ..."), e.g. the capacity bench's pg_stat_statements.
# Sets PG_STARTED=1 when this call started it (so the caller stops it on exit).
start_cluster() {
  local dir="$1" port="$2"
  PG_STARTED=0
  mkdir -p "$(dirname "$dir")"
  if [ "$(id -u)" -eq 0 ] && [ ! -e "$dir" ] && ! runuser -u postgres -- test -x "$(cd "$(dirname "$dir")" && pwd)"; then
    # The checkout is not reachable by the postgres user (e.g. cloned into a 0700 folder): keep the cluster in a
    # postgres-owned folder and link it from here.
    local alt="/var/tmp/ganservice-pg/$(printf '%s' "$PWD/$dir" | sha1sum | cut -c1-12)"
    mkdir -p "$alt"; chown postgres:postgres /var/tmp/ganservice-pg "$alt"; chmod 711 /var/tmp/ganservice-pg
    ln -sfn "$alt" "$dir"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd -P)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "Creating a private PostgreSQL cluster in $dir"
    pg_run "$PGBIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if pg_run "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "PostgreSQL already running in $dir"
    return
  fi
  log "Starting PostgreSQL on 127.0.0.1:$port"
  pg_run "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=300 -c fsync=${PG_FSYNC:-on} ${PG_EXTRA_OPTS:-}" start >/dev/null
  PG_STARTED=1
}

stop_cluster() {
  local dir
  dir="$(readlink -f "$1" 2>/dev/null)" || return 0
  [ -f "$dir/PG_VERSION" ] || return 0
  pg_run "$PGBIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# create_database PORT NAME
create_database() {
  local port="$1" name="$2"
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE \"$name\"" postgres
  fi
}

# The npm programs the tests and benches use (tools/node: s3rver, autocannon), installed from the lock file when
# missing or changed; Node.js itself from the distribution when the machine has none. Sets GANSERVICE_NODE_TOOLS.
ensure_node_tools() {
  if ! command -v npm >/dev/null 2>&1; then
    log "Installing Node.js from the distribution's packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  local dir="$PWD/tools/node"
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
    log "Installing the npm tools (tools/node)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
  fi
  export GANSERVICE_NODE_TOOLS="$dir/node_modules/.bin"
}

random_token() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "${1:-32}"; }
