#!/usr/bin/env bash
# Fetches the training/evaluation datasets into .data/datasets from the distribution's packages and npm.
# Nothing here is committed. Idempotent: a dataset already present is kept.
#   ./scripts/fetch-datasets.sh            Fashion-MNIST (Debian dataset-fashion-mnist): what the tests need
#   ./scripts/fetch-datasets.sh emoji      also the emoji sets (npm emoji-datasource-google, emoji-datasource-twitter)
#   ./scripts/fetch-datasets.sh faces      the emoji sets, and the age-labelled person emoji of Microsoft's Fluent 3D
#                                          art (npm @lobehub/fluent-emoji-3d, MIT; 256 px WebP) for the face-aging model,
#                                          Fluent Flat (npm fluentui-emoji, MIT) and OpenMoji (npm openmoji, CC-BY-SA
#                                          4.0) as SVG, rendered to 128 px PNG with resvg-js (tools/node)
#   ./scripts/fetch-datasets.sh captions   text-to-image: Fluent 3D emoji at 256 px with emojibase-data's names, tags,
#                                          groups and skin tones (both MIT)
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

# The person emoji that carry an age (baby, child, boy, girl, adult, man, woman, older adult, old man, old woman), in
# each skin tone, from a package that ships one image file per emoji named by code point.
fetch_npm_faces() { # name, package@version, folder in the package, extension
  local name="faces/$1" package="$2" inner="$3" ext="$4"
  if [ -f "$dest/$name/.complete" ]; then echo "dataset $name: present"; return; fi
  command -v npm >/dev/null || { echo "npm is needed for the face sets: sudo apt-get install npm" >&2; return 1; }
  local tmp files=() base tone; tmp="$(mktemp -d)"
  for base in 1f476 1f9d2 1f466 1f467 1f9d1 1f468 1f469 1f9d3 1f474 1f475; do
    for tone in "" -1f3fb -1f3fc -1f3fd -1f3fe -1f3ff; do files+=("package/$inner/$base$tone.$ext"); done
  done
  (cd "$tmp" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz package/package.json "${files[@]}" \
    && mv "package/$inner" images && mv package/package.json . && rm -rf package ./*.tgz)
  mkdir -p "$dest/faces"; rm -rf "${dest:?}/$name"; mv "$tmp" "$dest/$name"; chmod 755 "$dest/$name"
  touch "$dest/$name/.complete"
  echo "dataset $name: fetched from npm $package ($(ls "$dest/$name/images" | wc -l) images)"
}

# An SVG set: the 60 files named by code point (openmoji) or by name and tone (fluentui-emoji), rendered to
# images/<code point>[-<tone>].png like the others.
fetch_npm_svg_faces() { # name, package@version, naming (codepoint|fluent), folder in the package
  local name="faces/$1" package="$2" naming="$3" inner="$4"
  if [ -f "$dest/$name/.complete" ]; then echo "dataset $name: present"; return; fi
  ( cd "$root" && source scripts/lib.sh && ensure_node_tools >/dev/null )
  local tmp pairs=() files=() i j svg; tmp="$(mktemp -d)"
  local codes=(1f476 1f9d2 1f466 1f467 1f9d1 1f468 1f469 1f9d3 1f474 1f475)
  local names=(baby child boy girl person man woman older-person old-man old-woman)
  local tones=("" -1f3fb -1f3fc -1f3fd -1f3fe -1f3ff) toneNames=(default light medium-light medium medium-dark dark)
  mkdir -p "$tmp/images"
  for i in "${!codes[@]}"; do for j in "${!tones[@]}"; do
    if [ "$naming" = codepoint ]; then svg="package/$inner/$(echo "${codes[$i]}${tones[$j]}" | tr a-f A-F).svg"
    else svg="package/$inner/${names[$i]}-${toneNames[$j]}.svg"; fi
    files+=("$svg"); pairs+=("$tmp/$svg" "$tmp/images/${codes[$i]}${tones[$j]}.png")
  done; done
  (cd "$tmp" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz package/package.json "${files[@]}")
  node "$root/scripts/render-svg.mjs" 128 "${pairs[@]}"
  (cd "$tmp" && mv package/package.json . && rm -rf package ./*.tgz)
  mkdir -p "$dest/faces"; rm -rf "${dest:?}/$name"; mv "$tmp" "$dest/$name"; chmod 755 "$dest/$name"
  touch "$dest/$name/.complete"
  echo "dataset $name: rendered from npm $package ($(ls "$dest/$name/images" | wc -l) images)"
}

# Text-to-image data: every emoji of Microsoft's Fluent 3D art at its real 256 px (npm @lobehub/fluent-emoji-3d, MIT;
# WebP named by code point) with emojibase-data's English labels, tags, groups, subgroups and skin tones (npm
# emojibase-data, MIT), from which our code builds several captions per image.
fetch_captions() {
  local name=captions
  if [ -f "$dest/$name/.complete" ]; then echo "dataset $name: present"; return; fi
  command -v npm >/dev/null || { echo "npm is needed for the caption set: sudo apt-get install npm" >&2; return 1; }
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent @lobehub/fluent-emoji-3d@1.1.0 >/dev/null && tar xzf lobehub-fluent-emoji-3d-1.1.0.tgz package/assets \
    && mv package/assets images && rm -rf package ./*.tgz \
    && npm pack --silent emojibase-data@17.0.0 >/dev/null && tar xzf emojibase-data-17.0.0.tgz package/en/data.json package/en/messages.json package/LICENSE \
    && mv package/en/data.json package/en/messages.json . && mv package/LICENSE LICENSE-emojibase && rm -rf package ./*.tgz)
  rm -rf "${dest:?}/$name"; mv "$tmp" "$dest/$name"; chmod 755 "$dest/$name"
  touch "$dest/$name/.complete"
  echo "dataset $name: fetched from npm @lobehub/fluent-emoji-3d@1.1.0 ($(ls "$dest/$name/images" | wc -l) images) and emojibase-data@17.0.0"
}

for extra in "$@"; do
  case "$extra" in
    emoji) fetch_npm_emoji google 16.0.0; fetch_npm_emoji twitter 16.0.0 ;;
    faces) fetch_npm_emoji google 16.0.0; fetch_npm_emoji twitter 16.0.0; fetch_npm_faces fluent-3d @lobehub/fluent-emoji-3d@1.1.0 assets webp
           fetch_npm_svg_faces fluent-flat fluentui-emoji@1.3.0 fluent icons/flat
           fetch_npm_svg_faces openmoji openmoji@17.0.0 codepoint color/svg ;;
    captions) fetch_captions ;;
    *) echo "unknown dataset '$extra' (known: emoji, faces, captions)" >&2; exit 2 ;;
  esac
done
