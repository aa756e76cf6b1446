#!/usr/bin/env bash
# Reproduce the shipped codec zoo (psfl/semantic/zoo/) on a CPU: two queues, one per channel.
#   bash benchmarks/pretrain_zoo.sh fetch        # the BS's public photos (Debian mate-backgrounds)
#   bash benchmarks/pretrain_zoo.sh awgn|rayleigh [train|export] [MODEL]
# "train" only trains (resumable: run it again after an interruption); "export" evaluates each
# trained codec over the real link beside the digital baseline and writes it to the zoo.
set -euo pipefail
IMAGES=${PSFL_PUBLIC_IMAGES:-.public/mate-nature}
RUNS=${PSFL_ZOO_RUNS:-runs/zoo}
PSFL=${PSFL:-.venv/bin/psfl}
if [ "${1:-}" = fetch ]; then
  tmp=$(mktemp -d); (cd "$tmp" && apt-get download mate-backgrounds=1.26.0-1)
  dpkg-deb -x "$tmp"/mate-backgrounds_1.26.0-1_all.deb "$tmp/x"
  mkdir -p "$IMAGES"; cp "$tmp"/x/usr/share/backgrounds/mate/nature/*.jpg "$IMAGES"/; rm -rf "$tmp"
  exit 0
fi
channel=$1; mode=${2:-train}; only=${3:-}
# model:steps:mae_steps — the budget of each shipped file (RESULTS.md, "Shipped weights"); the
# fading variants, which the federation starts from, got the larger budgets.
case $channel in
  rayleigh) jobs="csc:20000:0 gsc-s:6000:1500 gsc-m:6000:1500 gsc-l:3000:750" ;;
  *) jobs="csc:8000:0 gsc-s:6000:1500 gsc-m:2500:625 gsc-l:1200:300" ;;
esac
for job in $jobs; do
  [ -n "$only" ] && [ "${job%%:*}" != "$only" ] && continue
  IFS=: read -r model steps mae <<<"$job"
  args=(pretrain --model "$model" --channel "$channel" --images "$IMAGES" --steps "$steps"
        --mae-steps "$mae" --seed 0 --out "$RUNS/$model-$channel-$steps")
  if [ "$mode" = export ]; then "$PSFL" "${args[@]}" --export psfl/semantic/zoo \
    --images-source "Debian mate-backgrounds 1.26.0-1, usr/share/backgrounds/mate/nature (GPL-2+)"
  else "$PSFL" "${args[@]}" --no-eval; fi
done
