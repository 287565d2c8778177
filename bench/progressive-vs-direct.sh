#!/usr/bin/env bash
# The Progressive GAN paper's claim, checked on our code: the same 64×64 networks (progan-emoji's config) trained
# progressively (4×4 up, PVD_KIMG kimg per fade and stable phase) and directly at 64×64, with the same data (Google +
# Twitter emoji), batch (PVD_BATCH, 16), seed and training-time budget (PVD_MINUTES, 12). Every PVD_EVAL_SECONDS (30)
# of training each run scores its EMA generator at its current level (train-progan --eval-every-seconds: FD of
# PVD_EVAL_IMAGES (1,000) generated vs as many real images in the emoji classifier's features, the clock stopped
# meanwhile). PVD_FINAL_KIMG lengthens the last stable phase (64×64) so that the time budget, not the schedule, ends
# both runs (otherwise both stop at the progressive schedule's total kimg). Prints, for each FD threshold, the training time each run needed to reach it and the ratio. One run
# after the other on the same machine; the glibc settings of README's "Retraining" for both.
# On a machine without the SDK (bench/gpu/run.sh): PVD_WORKERS is the worker command, PVD_DEVICE the device.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${PVD_MINUTES:-12}" every="${PVD_EVAL_SECONDS:-30}" kimg="${PVD_KIMG:-8}"
if [ -n "${PVD_SUMMARY_ONLY:-}" ]; then :
elif [ -z "${PVD_WORKERS:-}" ]; then
  ./scripts/fetch-datasets.sh emoji >/dev/null
  dotnet build src/Workers -c Release -v quiet -nologo -clp:ErrorsOnly
  W=(dotnet artifacts/bin/GanService.Workers/release/GanService.Workers.dll)
else
  read -r -a W <<< "$PVD_WORKERS"
fi
export MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=536870912
out="${PVD_OUT:-.data/progressive-vs-direct}"
if [ -z "${PVD_SUMMARY_ONLY:-}" ]; then   # PVD_SUMMARY_ONLY=1: the table again from the logs in $out
rm -rf "$out"; mkdir -p "$out"
# PVD_PARALLEL=1 trains both at once, one thread each: side by side, so load from anything else slows both alike.
threads=2; [ -n "${PVD_PARALLEL:-}" ] && threads=1
common=(train-progan --device "${PVD_DEVICE:-cpu}" --threads "$threads" --sets "${PVD_SETS:-google,twitter}" --resolution 64
        --fmap-base 512 --fmap-max 64 --batch "${PVD_BATCH:-16}" --seed 1 --fresh --no-eval --checkpoint-minutes 100000
        --log-every 100000000 --stable-kimg "$kimg" --fade-kimg "$kimg" --max-minutes "$minutes"
        ${PVD_FINAL_KIMG:+--final-kimg "$PVD_FINAL_KIMG"}
        --eval-every-seconds "$every" --eval-images "${PVD_EVAL_IMAGES:-1000}")
train() {
  local flag=(); [ "$1" = direct ] && flag=(--direct)
  "${W[@]}" "${common[@]}" "${flag[@]}" --checkpoints "$out/ck-$1" --out "$out/$1" > "$out/$1.log"
}
if [ -n "${PVD_PARALLEL:-}" ]; then
  train progressive & p=$!; train direct & d=$!
  wait "$p"; wait "$d"
  for mode in progressive direct; do echo "== $mode"; grep -E '^(curve|phase|stopped|training)' "$out/$mode.log"; done
else
  for mode in progressive direct; do
    echo "== $mode"; train "$mode"; grep -E '^(curve|phase|stopped|training)' "$out/$mode.log"
  done
fi
fi
echo
# A score counts once the network is at 64×64 with the fade-in done: what it would serve. (Upsampled 16×16 images
# can score better than a young 64×64 network's, and that is not the quality asked for.)
echo "training seconds to reach a Fréchet distance at 64×64 (emoji classifier features, ${PVD_EVAL_IMAGES:-1000} vs as many real images)"
echo "| FD ≤ | progressive s | direct s | direct / progressive |"
echo "| ---: | ---: | ---: | ---: |"
first() { awk -v t="$2" '/^curve: [0-9.]+ s/ && $6 == "64×64" && $8 == "1.00" { if ($NF + 0 <= t) { print $2; exit } }' "$out/$1.log"; }
for t in ${PVD_THRESHOLDS:-400 300 250 200 150 120 100}; do
  p="$(first progressive "$t")"; d="$(first direct "$t")"
  ratio="—"; [ -n "$p" ] && [ -n "$d" ] && ratio="$(awk -v p="$p" -v d="$d" 'BEGIN { printf "%.2f×", d / p }')"
  echo "| $t | ${p:-not reached} | ${d:-not reached} | $ratio |"
done
echo
for mode in progressive direct; do
  echo "$mode, last score: $(grep '^curve: [0-9.]* s' "$out/$mode.log" | tail -1)"
done
