#!/usr/bin/env bash
# The device tool sends the working tree and the carried paths within 64 MiB together, and the tracked weights and
# PNGs alone are ~50 MB. `tree.sh aside` moves every tracked file over 150 KB that a GPU training run does not read
# (all but the caption encoder) into .gpu/aside.tar (git-ignored, not carried) and deletes it from the tree;
# `tree.sh back` restores them. Run `back` as soon as the device call returns: until then `git status` shows them
# deleted, and a commit would drop them.
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in
  aside)
    [ ! -f .gpu/aside.tar ] || { echo ".gpu/aside.tar exists: run '$0 back' first" >&2; exit 1; }
    mkdir -p .gpu
    git ls-files -z | xargs -0 du -b | awk '$1 > 150000 { print $2 }' |
      grep -v -E '^models/emoji-text-encoder/(text-encoder\.safetensors|encoder\.json)$' > .gpu/aside.list
    tar -cf .gpu/aside.tar -T .gpu/aside.list
    xargs rm -f < .gpu/aside.list
    echo "moved $(wc -l < .gpu/aside.list) files ($(du -h .gpu/aside.tar | cut -f1)) aside; tree now $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes"
    ;;
  back)
    tar -xf .gpu/aside.tar && rm -f .gpu/aside.tar .gpu/aside.list
    git status --short | grep '^ D' && { echo "files still missing" >&2; exit 1; } || echo "restored"
    ;;
  *) echo "usage: $0 aside|back" >&2; exit 2 ;;
esac
