#!/usr/bin/env bash
# Packs into .gpu/ (git-ignored) what bench/gpu/run.sh needs on a GPU machine that has PyTorch with CUDA but no .NET,
# no PostgreSQL and no network, within a 64 MiB transfer:
#   dotnet.tar.xz   the .NET runtime this machine builds with (host + shared frameworks, debugger parts left out)
#   app.tar.xz      Workers, Api and Bench, framework-dependent, built with TorchBackend=none: libtorch is the PyTorch
#                   wheel's own torch/lib (+ nvidia/*/lib) there, found through GANSERVICE_LIBTORCH_DIR/LD_LIBRARY_PATH
#   pg.tar.xz       Debian's PostgreSQL 15 server programs and the libraries they link (run.sh uses only those the
#                   machine lacks); ICU's 31 MB data library is replaced by an empty stub, which is enough for a
#                   cluster whose collations are libc's (the ICU collations are imported by initdb, here)
#   cluster.tar.xz  that cluster, initialised here with the database "bench"
#   emoji.tar       emoji.json and every GPU_EMOJI_EVERY-th (6) Google emoji image: the training throughput run
#                   needs images, not all of them
#   faces.tar.xz    the age-labelled person emoji (scripts/fetch-datasets.sh faces) for train-caae (not in the default)
#   captions.tar.xz the caption set's data and the images train-stackgan reads: every training image plus the eight
#                   held-out ones its samples show (not in the default)
#   app-train.tar.xz  (part app-train) the Workers alone without what only the service loads (EF Core, Npgsql, Hangfire,
#                   AWS SDK, OpenTelemetry, Serilog): 6 MB against 9.5, for training runs; run.sh takes it with
#                   GPU_APP_TAR=.gpu/app-train.tar.xz
#   dotnet-train.tar.xz (part dotnet-train) the runtime without what a training run never loads (ASP.NET Core's own
#                   assemblies, System.Private.Xml, System.Data.Common, DataContract serialisation); run.sh takes it
#                   with GPU_DOTNET_TAR=.gpu/dotnet-train.tar.xz
#   fashion.tar     (part fashion) Fashion-MNIST's training split (26 MB, gzip already) for train-vgan: run.sh's vgan part
#   stage1/         (part stage1) the shipped StackGAN's Stage-I as train-stackgan reads it, so a GPU run trains
#                   Stage-II on it (run.sh uses it when present; carry .gpu/stage1/stage1.safetensors and
#                   .gpu/stage1/training-stage1.json)
# GPU_APPS names the projects to publish (default: src/Workers src/Api bench/GanService.Bench); the working tree and
# everything carried travel within 64 MiB together, so a training-only run packs src/Workers alone.
# Arguments name the parts to (re)make (app dotnet pg cluster emoji); none means all.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_postgres
parts="${*:-app dotnet pg cluster emoji}"
want() { [[ " $parts " == *" $1 "* ]]; }
out="$PWD/.gpu"; mkdir -p "$out"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

if want app; then
log "Publishing Workers, Api and Bench (framework-dependent, TorchBackend=none)"
for p in ${GPU_APPS:-src/Workers src/Api bench/GanService.Bench}; do
  dotnet publish "$p" -c Release -r linux-x64 --self-contained false -p:TorchBackend=none -o "$work/app/$(basename "$p")" -v quiet -nologo -clp:ErrorsOnly
done
# The next ordinary build restores the CPU backend again.
tar -cf - -C "$work" app | xz -T0 -9 > "$out/app.tar.xz"
fi

if want dotnet; then
log "Packing the .NET runtime"
droot="$(dirname "$(readlink -f "$(command -v dotnet)")")"
mkdir -p "$work/dotnet"; cp -a "$droot/dotnet" "$droot/host" "$droot/shared" "$work/dotnet/"
find "$work/dotnet/shared" \( -name 'libmscordaccore.so' -o -name 'libmscordbi.so' -o -name 'createdump' \) -delete
tar -cf - -C "$work/dotnet" . | xz -T0 -9 > "$out/dotnet.tar.xz"
fi

if want pg; then
log "Packing PostgreSQL"
pg="$work/pg"; ver="$(basename "$(dirname "$PGBIN")")"
mkdir -p "$pg/usr/lib/postgresql/$ver/bin" "$pg/usr/lib/postgresql/$ver/lib" "$pg/usr/share/postgresql" "$pg/opt/pglib" "$pg/usr/share/zoneinfo/Etc"
cp "$PGBIN"/{postgres,pg_ctl,psql} "$pg/usr/lib/postgresql/$ver/bin/"
cp "$PGBIN/../lib"/{plpgsql.so,dict_snowball.so,pgoutput.so} "$pg/usr/lib/postgresql/$ver/lib/"
cp -r "/usr/share/postgresql/$ver" "$pg/usr/share/postgresql/"
cp /usr/share/zoneinfo/Etc/UTC "$pg/usr/share/zoneinfo/Etc/UTC"
for b in "$pg/usr/lib/postgresql/$ver/bin"/*; do ldd "$b" | awk '/=>/ {print $3}'; done | sort -u |
  grep -v -E '/(libc|libm|libresolv|libstdc\+\+|libgcc_s|libcrypto|libssl|libz|liblzma|libsystemd)\.so' |
  while read -r lib; do cp -L "$lib" "$pg/opt/pglib/"; done
icu="$(ls "$pg/opt/pglib" | sed -n 's/^libicuuc\.so\.\([0-9]*\)$/\1/p')"
printf 'const unsigned char icudt%s_dat[64] __attribute__((aligned(16))) = {0};\n' "$icu" > "$work/icustub.c"
rm -f "$pg/opt/pglib/libicudata.so.$icu"
gcc -shared -fPIC -o "$pg/opt/pglib/libicudata.so.$icu" -Wl,-soname,"libicudata.so.$icu" "$work/icustub.c"
tar -cf - -C "$pg" . | xz -T0 -9 > "$out/pg.tar.xz"
fi

if want cluster; then
log "Initialising the cluster"
mkdir -p "$work/cluster"; chown postgres "$work/cluster" 2>/dev/null || true
pg_run "$PGBIN/initdb" -D "$work/cluster/d" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
pg_run "$PGBIN/pg_ctl" -D "$work/cluster/d" -w -o "-p 55439 -c listen_addresses=127.0.0.1 -k $work/cluster" start >/dev/null
psql -h 127.0.0.1 -p 55439 -U postgres -qc 'CREATE DATABASE bench' postgres
pg_run "$PGBIN/pg_ctl" -D "$work/cluster/d" -m fast -w stop >/dev/null
rm -f "$work/cluster/d/postmaster.opts"
tar -cf - -C "$work/cluster" d | xz -T0 -9 > "$out/cluster.tar.xz"
fi

if want emoji; then
log "Packing a sample of the emoji"
./scripts/fetch-datasets.sh emoji >/dev/null
src=.data/datasets/emoji/google
(cd "$src/images" && ls | awk -v n="${GPU_EMOJI_EVERY:-6}" 'NR % n == 1') > "$work/emoji.list"
mkdir -p "$work/emoji/emoji/google/images"
cp "$src/emoji.json" "$src/LICENSE" "$work/emoji/emoji/google/"
(cd "$src/images" && xargs cp -t "$work/emoji/emoji/google/images") < "$work/emoji.list"
tar -cf - -C "$work/emoji" emoji | xz -T0 -9 > "$out/emoji.tar.xz"
fi
if want faces; then
log "Packing the age-labelled faces"
./scripts/fetch-datasets.sh faces >/dev/null
(cd .data/datasets && tar -cf - faces/fluent-3d \
  $(for s in google twitter; do for b in 1f476 1f9d2 1f466 1f467 1f9d1 1f468 1f469 1f9d3 1f474 1f475; do
      ls emoji/$s/images/$b.png emoji/$s/images/$b-1f3f[b-f].png; done; done)) | xz -T0 -9 > "$out/faces.tar.xz"
fi
if want dotnet-train; then
log "Packing the .NET runtime for training runs"
droot="$(dirname "$(readlink -f "$(command -v dotnet)")")"
mkdir -p "$work/dotnet-train"; cp -a "$droot/dotnet" "$droot/host" "$droot/shared" "$work/dotnet-train/"
find "$work/dotnet-train/shared" \( -name 'libmscordaccore.so' -o -name 'libmscordbi.so' -o -name 'createdump' \
  -o -name 'Microsoft.AspNetCore.*.dll' -o -name 'System.Private.Xml*.dll' -o -name 'System.Data.Common.dll' \
  -o -name 'System.Private.DataContractSerialization.dll' \) -delete
tar -cf - -C "$work/dotnet-train" . | xz -T0 -9 > "$out/dotnet-train.tar.xz"
fi

if want app-train; then
log "Publishing the Workers alone, for training runs"
dotnet publish src/Workers -c Release -r linux-x64 --self-contained false -p:TorchBackend=none -o "$work/app/Workers" -v quiet -nologo -clp:ErrorsOnly
(cd "$work/app/Workers" && rm -f AWSSDK.* Microsoft.EntityFrameworkCore*.dll Npgsql*.dll Hangfire*.dll OpenTelemetry*.dll \
  Google.Protobuf.dll Newtonsoft.Json.dll Grpc*.dll Serilog*.dll)
tar -cf - -C "$work" app | xz -T0 -9 > "$out/app-train.tar.xz"
fi

if want stage1; then
log "Extracting the shipped Stage-I"
dotnet build src/Workers -v quiet -nologo -clp:ErrorsOnly
rm -rf "$out/stage1"
dotnet artifacts/bin/GanService.Workers/debug/GanService.Workers.dll pack-stackgan --out models/stackgan-emoji --extract-stage-one "$out/stage1"
fi

if want captions; then
log "Packing the caption set's training images"
./scripts/fetch-datasets.sh captions >/dev/null
dotnet build src/Workers -v quiet -nologo -clp:ErrorsOnly
dotnet artifacts/bin/GanService.Workers/debug/GanService.Workers.dll train-stackgan --list-images > "$work/captions.list"
mkdir -p "$work/c/captions/images"
cp .data/datasets/captions/{data.json,messages.json,LICENSE-emojibase} "$work/c/captions/"
xargs cp -t "$work/c/captions/images" < "$work/captions.list"
tar -cf - -C "$work/c" captions | xz -T0 -1 > "$out/captions.tar.xz"  # WebP is compressed already: xz only removes tar's padding
fi
if want fashion; then
log "Packing Fashion-MNIST's training split"
./scripts/fetch-datasets.sh >/dev/null
mkdir -p "$work/f/fashion-mnist"
cp .data/datasets/fashion-mnist/train-{images-idx3,labels-idx1}-ubyte.gz "$work/f/fashion-mnist/"
tar -cf "$out/fashion.tar" -C "$work/f" fashion-mnist   # the files are gzip already
fi
ls -la "$out"; du -cb "$out"/* | tail -1
