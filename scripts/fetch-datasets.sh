#!/usr/bin/env bash
# Fetches the training/evaluation datasets into .data/datasets from the distribution's packages and npm.
# Nothing here is committed. Idempotent: a dataset already present is kept.
#   ./scripts/fetch-datasets.sh            Fashion-MNIST (Debian dataset-fashion-mnist): what the tests need
#   ./scripts/fetch-datasets.sh emoji      also the emoji sets (npm emoji-datasource-google, emoji-datasource-twitter)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${GANSERVICE_DATA:-$root/.data}/datasets"
mkdir -p "$dest"

fetch_deb() { # package, then the folder inside it to copy, then the target name
  local pkg="$1" inner="$2" name="$3"
  if [ -f "$dest/$name/.complete" ]; then echo "dataset $name: present"; return; fi
  local tmp; tmp="$(mktemp -d)"
  if [ -d "/$inner" ]; then
    cp -r "/$inner/." "$tmp/"          # installed system-wide already
  else
    (cd "$tmp" && { apt-get download "$pkg" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get download "$pkg"; }; } \
      && dpkg -x ./*.deb x && cp -r "x/$inner/." "$tmp/" && rm -rf x ./*.deb)
  fi
  rm -rf "${dest:?}/$name"; mv "$tmp" "$dest/$name"; chmod 755 "$dest/$name"
  touch "$dest/$name/.complete"
  echo "dataset $name: fetched from Debian package $pkg"
}

fetch_deb dataset-fashion-mnist usr/share/datasets/fashion-mnist fashion-mnist

# An emoji-datasource-<set> npm package: its 64×64 PNGs (with skin-tone variations) and emoji.json (names,
# categories). Needs npm (apt-get install npm when missing).
fetch_npm_emoji() { # set, version
  local set="$1" version="$2" name="emoji/$1"
  if [ -f "$dest/$name/.complete" ]; then echo "dataset $name: present"; return; fi
  command -v npm >/dev/null || { echo "npm is needed for the emoji sets: sudo apt-get install npm" >&2; return 1; }
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "emoji-datasource-$set@$version" >/dev/null \
    && tar xzf ./*.tgz package/emoji.json package/LICENSE package/package.json "package/img/$set/64" \
    && mv "package/img/$set/64" images && mv package/emoji.json package/LICENSE package/package.json . \
    && rm -rf package ./*.tgz)
  mkdir -p "$dest/emoji"; rm -rf "${dest:?}/$name"; mv "$tmp" "$dest/$name"; chmod 755 "$dest/$name"
  touch "$dest/$name/.complete"
  echo "dataset $name: fetched from npm emoji-datasource-$set@$version ($(ls "$dest/$name/images" | wc -l) images)"
}

for extra in "$@"; do
  case "$extra" in
    emoji) fetch_npm_emoji google 16.0.0; fetch_npm_emoji twitter 16.0.0 ;;
    *) echo "unknown dataset '$extra' (known: emoji)" >&2; exit 2 ;;
  esac
done
