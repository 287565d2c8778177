#!/usr/bin/env bash
# Fetches the training/evaluation datasets into .data/datasets from the distribution's packages.
# Nothing here is committed. Idempotent: a dataset already present is kept.
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
