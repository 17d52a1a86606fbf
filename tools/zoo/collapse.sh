#!/usr/bin/env bash
# The collapse stress test of docs/zoo.md: the MLP GAN at a learning rate 5x the usual (1e-3), which
# tends to collapse onto a few classes, with and without a minibatch layer in D; each run scored by
# the built-in evaluator on 10,000 samples (classes covered, recall, precision, FID).
# Usage: tools/zoo/collapse.sh OUT_DIR [EPOCHS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tools/zoo/collapse.sh OUT_DIR [EPOCHS] [SEED]}
epochs=${2:-5}
seed=${3:-1}
# GANFORGE=path/to/ganforge runs a copy of the binaries, so that rebuilding the tree cannot touch running jobs.
ganforge=${GANFORGE:-}
if [ -z "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null
  ganforge=src/GanForge.Cli/bin/Release/net10.0/ganforge
fi
mkdir -p "$out"
for v in plain minibatch-discrimination=20 mbstd=4; do
  name=${v%%=*}
  dir="$out/$name-s$seed"
  [ -f "$dir/eval.json" ] && continue
  rm -rf "$dir"
  set_args=()
  [ "$v" = plain ] || set_args=(--set "$v")
  "$ganforge" train --threads "${THREADS:-0}" --model gan --lr 1e-3 "${set_args[@]}" --data fashion-mnist --epochs "$epochs" --seed "$seed" --log-every 100 --out "$dir" > "$dir.log" 2>&1
  "$ganforge" eval --checkpoint "$dir" --data fashion-mnist --samples 10000 --seed 0 --json "$dir/eval.json" >> "$dir.log" 2>&1
  echo "$name: done"
done
