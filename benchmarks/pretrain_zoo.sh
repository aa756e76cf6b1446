#!/usr/bin/env bash
# Continue training the shipped codec zoo (psfl/semantic/zoo/) on a CPU, one queue per core.
#   bash benchmarks/pretrain_zoo.sh fetch                       # the photos (benchmarks/public_photos.sh)
#   bash benchmarks/pretrain_zoo.sh CHANNEL train|export MODEL:STEPS [MINUTES]
# Each run warm-starts from the zoo's current file for MODEL on CHANNEL (--init
# pretrained:MODEL-CHANNEL; its provenance records where it started and the images seen so far),
# so the zoo improves session by session; PSFL_ZOO_INIT=pretrained:OTHER starts from another zoo file
# of the same preset instead (e.g. a channel's file from the other channel's). "train" only trains (resumable: run it again after an
# interruption, or with more MINUTES); "export" evaluates the last checkpoint as it stands
# (--now: also before all STEPS are done) over the real link beside the digital baseline and
# writes it to the zoo. Weights of a fresh start: psfl pretrain
# without --init (README, "Shipped weights").
set -euo pipefail
IMAGES=${PSFL_PUBLIC_IMAGES:-.public/train}
RUNS=${PSFL_ZOO_RUNS:-runs/zoo}
PSFL=${PSFL:-.venv/bin/psfl}
if [ "${1:-}" = fetch ]; then exec bash "$(dirname "$0")/public_photos.sh" .public; fi
channel=$1; mode=$2; job=$3; minutes=${4:-600}
IFS=: read -r model steps <<<"$job"
args=(pretrain --model "$model" --channel "$channel" --images "$IMAGES" --steps "$steps"
      --init "${PSFL_ZOO_INIT:-pretrained:$model-$channel}" --minutes "$minutes" --seed 1
      --set semantic.learning_rate=2e-4 --out "$RUNS/$model-$channel")
# one thread per process: two queues side by side use both cores without contention
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
if [ "$mode" = export ]; then "$PSFL" "${args[@]}" --now --export psfl/semantic/zoo --images-source \
  "$(cat "$(dirname "$0")/public_photos.origin")"
else "$PSFL" "${args[@]}" --no-eval; fi
