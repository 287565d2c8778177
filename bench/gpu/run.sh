#!/usr/bin/env bash
# Runs on a GPU machine with PyTorch (CUDA) and nothing of ours installed, from the repository root, after
# bench/gpu/pack.sh made .gpu/ here and .gpu travelled with the checkout. Builds nothing. In order, each part bounded
# so that the whole stays inside GPU_BUDGET_S (540) seconds:
#   1. `device`: which libtorch loaded, whether CUDA works
#   2. raw forward throughput at batch 1–256 on the GPU, then on this machine's CPU
#   3. ProGAN training throughput (train-progan --device cuda), per phase, at batch 16 (the shipped run's batch)
#   4. the service (Postgres, Api, one worker on the GPU): jobs/s and Prefer: wait latency with 1, 8, 64 clients,
#      batching on vs off, alternating rounds; then the worker's memory over 10,000 jobs
#   5. the same training at batch 64, if time is left
#   6. (only when GPU_PARTS names pvd) bench/progressive-vs-direct.sh on the GPU at batch 64
#   7. (only when GPU_PARTS names caae) train-caae on the GPU for GPU_CAAE_MINUTES (3), weights to $OUT/caae-gpu
#   8. (only when GPU_PARTS names stackgan) train-stackgan Stage-I for GPU_STACKGAN_STAGE1_S (150) seconds or less, so that
#      GPU_STACKGAN_STAGE2_MIN_S (240) stay, then Stage-II (GPU_STACKGAN_SIZE, 256 px) on it for what is left less
#      GPU_STACKGAN_RESERVE_S (30) and a minute for loading and saving; the model folder to $OUT/stackgan-emoji.
#      A Stage-I carried in .gpu/stage1 (stage1.safetensors, training-stage1.json) is used instead of training one.
#   9. (only when GPU_PARTS names vgan) train-vgan from scratch with the shipped recipe (GPU_VGAN_ARGS replaces it) for
#      what is left less GPU_VGAN_RESERVE_S (30) and a minute for loading and saving, on .gpu/fashion.tar (pack.sh's
#      fashion part); the model folder to $OUT/vgan-moving-fashion. Evaluate it back here: eval-vgan --model <folder>.
# GPU_DOTNET_TAR picks the runtime (.gpu/dotnet.tar.xz; pack.sh's dotnet-train is 10 MB smaller, for training only).
# GPU_APP_TAR picks the app bundle (.gpu/app.tar.xz): within the 64 MiB, a training-only bundle leaves out what only
# the service needs (EF Core, Npgsql, Hangfire, AWS SDK, OpenTelemetry, Serilog: train-stackgan loads none of them).
#      (pack.sh's captions part carries the data; the repository's models/emoji-text-encoder the frozen encoder)
# GPU_PARTS picks parts (device forward train service memory train64; default all). Logs go to $OUT (or
# .data/gpu-out) as they are written.
set -uo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
out="${OUT:-$root/.data/gpu-out}"; mkdir -p "$out"
exec > >(tee -a "$out/gpu.log") 2>&1
start=$(date +%s); budget="${GPU_BUDGET_S:-540}"
left() { echo $(( budget - ($(date +%s) - start) )); }
# cap SECONDS [RESERVE]: SECONDS, or less so that RESERVE (5) seconds stay for what follows; never below 1.
cap() { local l; l=$(( $(left) - ${2:-5} )); [ "$l" -lt "$1" ] || l="$1"; [ "$l" -ge 1 ] || l=1; echo "$l"; }
step() { printf '\n=== %s (%ss left) ===\n' "$*" "$(left)"; }
g=/opt/ganservice-gpu; mkdir -p "$g/dotnet"
parts="${GPU_PARTS:-device forward train service memory train64}"   # pvd: see 6
want() { [[ " $parts " == *" $1 "* ]]; }

# minutes SECONDS: --max-minutes for a run of SECONDS (at least 0.3).
minutes() { awk -v s="$1" 'BEGIN { m = s / 60; printf "%.2f", m < 0.3 ? 0.3 : m }'; }

step "unpacking"
tar -xJf "${GPU_DOTNET_TAR:-.gpu/dotnet.tar.xz}" -C "$g/dotnet"
tar -xJf "${GPU_APP_TAR:-.gpu/app.tar.xz}" -C "$g"
[ -f .gpu/pg.tar.xz ] && tar -xJf .gpu/pg.tar.xz -C /
[ -f .gpu/cluster.tar.xz ] && mkdir -p /var/tmp/gspg && tar -xJf .gpu/cluster.tar.xz -C /var/tmp/gspg
mkdir -p .data/datasets; [ -f .gpu/emoji.tar.xz ] && tar -xJf .gpu/emoji.tar.xz -C .data/datasets
export DOTNET_ROOT="$g/dotnet" PATH="$g/dotnet:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1   # no ICU needed for our own processes
W="dotnet $g/app/Workers/GanService.Workers.dll"; A="$g/app/Api/GanService.Api.dll"; B="dotnet $g/app/GanService.Bench/GanService.Bench.dll"
if [ -n "${GPU_LIBTORCH_DIR:-}" ]; then tlib="$GPU_LIBTORCH_DIR"
else tlib="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"; fi
nv="$(find "$(dirname "$(dirname "$tlib")")/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | sort | paste -sd:)"
export GANSERVICE_LIBTORCH_DIR="$tlib" LD_LIBRARY_PATH="$tlib${nv:+:$nv}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
echo "cpu: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

if want device; then
step "1. device"
timeout "$(cap 60)" $W device
fi

if want forward; then
step "2. raw forward throughput (GPU, then CPU)"
# The GPU's batch-1 forward is what the service's light-load latency is compared with (BENCH_RESULTS.forward).
BENCH_RESULTS="$out/service.jsonl" BENCH_DEVICE=auto timeout "$(cap 120)" $B forward
BENCH_DEVICE=cpu timeout "$(cap 90 300)" $B forward
fi

train() { # batch, log name
  rm -rf "/tmp/progan-$2"
  timeout "$(cap "$3")" $W train-progan --device auto --sets google --resolution 64 --fmap-base 512 --fmap-max 64 \
    --stable-kimg "${GPU_TRAIN_KIMG:-4}" --fade-kimg "${GPU_TRAIN_KIMG:-4}" --batch "$1" --checkpoint-minutes 1000 --log-every 200 \
    --checkpoints "/tmp/progan-$2/ck" --out "/tmp/progan-$2/model" --no-eval | tee "$out/$2.log" | grep -E '^(phase|training|loaded|saved)'
}
if want train; then
step "3. ProGAN training throughput, batch 16"
train 16 train-b16 150
fi

if want service || want memory; then
step "4. service bench"
mkdir -p /opt/pgneed
for f in /opt/pglib/*; do
  so="$(basename "$f")"
  case "$so" in libicu*) cp "$f" /opt/pgneed/ ;; *) ldconfig -p | grep -q "^[[:space:]]$so " || cp "$f" /opt/pgneed/ ;; esac
done
echo "postgres uses from the bundle: $(ls /opt/pgneed | paste -sd' ')"
if ! id postgres >/dev/null 2>&1; then
  useradd -r -M -d /var/tmp/gspg postgres 2>/dev/null ||
    { echo 'postgres:x:7432:7432::/var/tmp/gspg:/bin/sh' >> /etc/passwd; echo 'postgres:x:7432:' >> /etc/group; }
fi
# postgres refuses to run as root.
as_pg() {
  if command -v runuser >/dev/null; then (cd / && runuser -u postgres -- env LD_LIBRARY_PATH=/opt/pgneed "$@")
  else (cd / && setpriv --reuid=postgres --regid=postgres --init-groups env LD_LIBRARY_PATH=/opt/pgneed "$@"); fi
}
chown -R postgres /var/tmp/gspg; chmod 700 /var/tmp/gspg/d
pgbin="$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
as_pg "$pgbin/pg_ctl" -D /var/tmp/gspg/d -l /var/tmp/gspg/log -w -t 60 \
  -o "-p 55434 -c listen_addresses=127.0.0.1 -k /var/tmp/gspg -c max_connections=300 -c fsync=off" start || tail -20 /var/tmp/gspg/log
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=55434;Username=postgres;Database=bench;Maximum Pool Size=200"
export Auth__BootstrapKey="gsk_gpubench$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" Storage__SigningKey="$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export Storage__Root=/tmp/gs-blobs Models__Root="$root/models" Serilog__MinimumLevel__Default=Warning
export Api__RateLimitPerSecond=1000000 Api__RateLimitBurst=1000000 Api__MaxQueuedJobsPerKey=0
export BENCH_URL=http://127.0.0.1:5090 BENCH_KEY="$Auth__BootstrapKey" BENCH_PG="$ConnectionStrings__Postgres"
export BENCH_RESULTS="$out/service.jsonl" BENCH_WEIGHTS="$root/models/dcgan-fashion/generator.safetensors"
rm -f "$BENCH_RESULTS"
$W migrate >/dev/null || echo "migrate failed"
dotnet "$A" --urls http://127.0.0.1:5090 > "$out/api.log" 2>&1 & api=$!
python3 - <<'PY' || echo "the Api did not become ready"
import time, urllib.request
for _ in range(120):
    try:
        urllib.request.urlopen("http://127.0.0.1:5090/health/ready", timeout=2); print("Api ready"); break
    except Exception: time.sleep(0.5)
PY
want service && for round in $(seq 1 "${GPU_ROUNDS:-2}"); do
  for setting in on off; do
    [ "$(left)" -lt 150 ] && break 2
    enabled=true; [ "$setting" = off ] && enabled=false
    Worker__Concurrency=64 Worker__Batching__Enabled=$enabled $W run > "$out/worker-$setting-$round.log" 2>&1 & worker=$!
    BENCH_TAG=$setting BENCH_ROUND=$round BENCH_SECONDS="${GPU_BENCH_SECONDS:-6}" timeout "$(cap 60)" $B clients
    if [ "$round$setting" = 1on ]; then  # what /health/ready says of a running GPU worker
      python3 - <<'PY' || true
import urllib.request, urllib.error
try: print(urllib.request.urlopen("http://127.0.0.1:5090/health/ready", timeout=5).read().decode()[:1500])
except urllib.error.HTTPError as e: print(e.code, e.read().decode()[:1500])
PY
    fi
    kill -TERM $worker; wait $worker
  done
done
want service && $B report

if want memory; then
step "4b. worker memory over 10,000 jobs"
Worker__Concurrency=64 Worker__Batching__Enabled=true $W run > "$out/worker-memory.log" 2>&1 & worker=$!
BENCH_WORKER_PID=$worker BENCH_MEMORY_JOBS="${GPU_MEMORY_JOBS:-10000}" timeout "$(cap 150 60)" $B memory
kill -TERM $worker; wait $worker
fi
kill -TERM $api 2>/dev/null; wait $api 2>/dev/null
as_pg "$pgbin/pg_ctl" -D /var/tmp/gspg/d -m fast -w stop >/dev/null
fi

if want train64; then
step "5. ProGAN training throughput, batch 64"
[ "$(left)" -gt 45 ] && train 64 train-b64 120
fi
if want caae; then
  step "7. CAAE face-aging training on the GPU"
  [ -f .gpu/faces.tar.xz ] && tar -xJf .gpu/faces.tar.xz -C .data/datasets
  timeout "$(cap 600 3)" $W train-caae --device auto --batch "${GPU_CAAE_BATCH:-64}" --max-minutes "${GPU_CAAE_MINUTES:-3}" \
    --steps 1000000 --save-every 1000 --log-every 200 --out "$out/caae-gpu" | tee "$out/caae-gpu.log" | grep -v '^step' | head -5
  tail -n 3 "$out/caae-gpu.log"
fi

if want pvd; then
  step "6. progressive vs direct on the GPU"
  PVD_WORKERS="$W" PVD_DEVICE=auto PVD_BATCH="${GPU_PVD_BATCH:-64}" PVD_SETS=google PVD_KIMG="${GPU_PVD_KIMG:-20}" PVD_FINAL_KIMG="${GPU_PVD_FINAL_KIMG:-}" \
    PVD_MINUTES="${GPU_PVD_MINUTES:-2}" PVD_EVAL_SECONDS="${GPU_PVD_EVAL_SECONDS:-15}" PVD_EVAL_IMAGES="${GPU_PVD_EVAL_IMAGES:-900}" \
    PVD_OUT=/tmp/pvd timeout "$(cap "$(awk -v m="${GPU_PVD_MINUTES:-2}" 'BEGIN { printf "%d", 150 * m + 60 }')" 3)" bash bench/progressive-vs-direct.sh
  cp /tmp/pvd/progressive.log "$out/pvd-progressive.log"; cp /tmp/pvd/direct.log "$out/pvd-direct.log"
fi
if want stackgan; then
  step "8. StackGAN Stage-I, then Stage-II, on the GPU"
  tar -xJf .gpu/captions.tar.xz -C .data/datasets
  sg="$out/stackgan-emoji"; mkdir -p "$sg"
  common=(--device auto --steps 10000000 --log-every "${GPU_STACKGAN_LOG_EVERY:-500}" --out "$sg")
  # Each stage stops itself (--max-minutes) and saves; the timeouts, 90 s later, only catch a hang.
  if [ -f .gpu/stage1/stage1.safetensors ]; then
    echo "Stage-I from .gpu/stage1 (trained before), not retrained"; cp .gpu/stage1/stage1.safetensors .gpu/stage1/training-stage1.json "$sg/"
  else
    s1=${GPU_STACKGAN_STAGE1_S:-150}; room=$(( $(left) - ${GPU_STACKGAN_STAGE2_MIN_S:-240} ))
    [ "$s1" -le "$room" ] || s1=$room
    timeout "$(cap $(( s1 + 90 )) 30)" $W train-stackgan --stage 1 "${common[@]}" --max-minutes "$(minutes "$s1")" \
      --save-every 2000 --checkpoints /tmp/stackgan-ck1 ${GPU_STACKGAN_STAGE1_ARGS:-}
  fi
  s2=$(( $(left) - ${GPU_STACKGAN_RESERVE_S:-30} - 60 ))
  timeout "$(cap $(( s2 + 90 )) 3)" $W train-stackgan --stage 2 --size "${GPU_STACKGAN_SIZE:-256}" "${common[@]}" \
    --max-minutes "$(minutes "$s2")" --save-every 1000 --checkpoints /tmp/stackgan-ck2 ${GPU_STACKGAN_STAGE2_ARGS---l1 100}
  rm -f "$sg/samples.txt"   # at most 8 files come back
  ls -la "$sg"
fi
if want vgan; then
  step "9. VGAN on the GPU"
  mkdir -p .data/datasets && tar -xf .gpu/fashion.tar -C .data/datasets
  vg="$out/vgan-moving-fashion"; sv=$(( $(left) - ${GPU_VGAN_RESERVE_S:-30} - 60 ))
  # It stops itself (--max-minutes) and saves; the timeout, 90 s later, only catches a hang.
  timeout "$(cap $(( sv + 90 )) 3)" $W train-vgan --device auto --steps 10000000 --max-minutes "$(minutes "$sv")" \
    --save-every 5000 --log-every 500 --out "$vg" --checkpoints /tmp/vgan-ck --fresh \
    ${GPU_VGAN_ARGS---lr-d 1e-4 --real-label 0.9 --mask-l1 10 --mask-bias -2} | tee "$out/vgan-gpu.log" | tail -n 4
  ls -la "$vg"
fi
step "done"
