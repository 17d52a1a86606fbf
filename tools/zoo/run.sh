#!/usr/bin/env bash
# The zoo table of docs/zoo.md: every variant on the full Fashion-MNIST (Debian's dataset-fashion-mnist),
# trained for EPOCHS epochs with each seed, then scored by the built-in evaluator on 10,000 samples.
# Usage: tools/zoo/run.sh OUT_DIR [EPOCHS] [SEEDS] [VARIANTS...]
#   e.g. tools/zoo/run.sh runs/zoo 5 "1 2"            (all variants)
#        tools/zoo/run.sh runs/zoo20 20 1 dcgan wgan-gp sngan
# Each run writes OUT_DIR/NAME-sSEED/ (the run folder, eval.json, wall.txt); rerunning skips finished runs and
# resumes a run that was stopped (kill -TERM saves a checkpoint), adding up its wall time over the pieces.
# THREADS=1 runs each training on one thread (two queues side by side use the 2 cores better than one).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tools/zoo/run.sh OUT_DIR [EPOCHS] [SEEDS] [VARIANTS...]}
epochs=${2:-5}
seeds=${3:-1 2}
shift $(( $# < 3 ? $# : 3 ))
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(dcgan sngan lsgan wgan gan dcgan+r1 dcgan+mbstd wgan-gp)
# GANFORGE=path/to/ganforge runs a copy of the binaries, so that rebuilding the tree cannot touch running jobs.
ganforge=${GANFORGE:-}
if [ -z "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null
  ganforge=src/GanForge.Cli/bin/Release/net10.0/ganforge
fi
mkdir -p "$out"
for seed in $seeds; do
  for v in "${variants[@]}"; do
    dir="$out/$v-s$seed"
    [ -f "$dir/eval.json" ] && continue
    resume=()
    if [ -f "$dir/checkpoint.safetensors" ]; then resume=(--resume); else rm -rf "$dir" "$dir.log"; fi
    case "$v" in
      dcgan+r1) args=(--model dcgan --set r1=1 --set r1-every=16) ;;
      dcgan+mbstd) args=(--model dcgan --set mbstd=4) ;;
      dcgan+mbd) args=(--model dcgan --set minibatch-discrimination=20) ;;
      *) args=(--model "$v") ;;
    esac
    start=$(date +%s)
    status=0
    # Batch 128 and no EMA, as docs/zoo.md was measured, whatever the defaults of `train` are.
    "$ganforge" train "${args[@]}" "${resume[@]}" --threads "${THREADS:-0}" --data fashion-mnist --epochs "$epochs" --batch-size 128 --ema 0 --seed "$seed" --log-every 100 --out "$dir" >> "$dir.log" 2>&1 || status=$?
    echo $(( $(date +%s) - start )) >> "$dir/wall-pieces.txt"
    [ "$status" -eq 0 ] || { echo "$v seed $seed stopped (exit $status); rerun to resume"; exit "$status"; }
    awk '{ s += $1 } END { print s }' "$dir/wall-pieces.txt" > "$dir/wall.txt"
    "$ganforge" eval --checkpoint "$dir" --data fashion-mnist --samples 10000 --seed 0 --json "$dir/eval.json" >> "$dir.log" 2>&1
    echo "$v seed $seed: $(cat "$dir/wall.txt") s"
  done
done
