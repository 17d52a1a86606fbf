#!/usr/bin/env bash
# The figures of the growing and style-based variants (docs/zoo.md, sections Growing and Styles), on the full
# Fashion-MNIST (Debian's dataset-fashion-mnist) resized to 32 x 32:
#   dcgan, progan, stylegan, transgan at 32: EPOCHS epochs each (equal images shown), wall time in
#     NAME/wall-pieces.txt, then `eval --samples 10000` (FID, KID, precision, recall, ...)
#   dcgan at equal wall time: a second dcgan run stopped (SIGINT: it checkpoints) after stylegan's wall time, and a
#     third after transgan's, then eval
#   stylegan's truncation trade-off: samples at psi = 0.5, 0.7, 1.0 written as IDX, each scored by `eval --images`
#   stylegan's style-mixing grid and noise grid
#   projection of the first 10 test images (pixel MSE and evaluator-feature distance, against w_avg and a random w)
# Usage: tools/zoo/styles.sh OUT_DIR   (THREADS=1 and GANFORGE=path as tools/zoo/run.sh; EPOCHS, default 5;
#        PROGAN_PHASE, images per progan phase, default 30000, so 32 pixels is stable after 180,000 images)
# Each step writes its log under OUT_DIR and is skipped when its result is there; a stopped training resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tools/zoo/styles.sh OUT_DIR}
ganforge=${GANFORGE:-}
if [ -z "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null
  ganforge=src/GanForge.Cli/bin/Release/net10.0/ganforge
fi
threads=${THREADS:-0}
epochs=${EPOCHS:-5}
mkdir -p "$out"

train() {   # train NAME ARGS...: a run folder OUT/NAME, resumed if stopped
  local name=$1; shift
  local dir="$out/$name"
  [ -f "$dir/done" ] && return 0
  local resume=()
  [ -f "$dir/checkpoint.safetensors" ] && resume=(--resume)
  local start; start=$(date +%s)
  "$ganforge" train "$@" "${resume[@]}" --threads "$threads" --data fashion-mnist --image-size 32 --log-every 100 --out "$dir" >> "$dir.log" 2>&1
  echo $(( $(date +%s) - start )) >> "$dir/wall-pieces.txt"
  touch "$dir/done"
}

score() {   # score NAME: eval of OUT/NAME's generator
  [ -f "$out/$1/eval.json" ] || "$ganforge" eval --checkpoint "$out/$1" --data fashion-mnist --samples 10000 --seed 0 --json "$out/$1/eval.json" > "$out/$1.eval.txt" 2>&1
}

train dcgan32 --model dcgan --epochs "$epochs" --seed 1
train progan32 --model progan --epochs "$epochs" --set phase-images="${PROGAN_PHASE:-30000}" --seed 1
train stylegan32 --model stylegan --epochs "$epochs" --seed 1
train transgan32 --model transgan --epochs "$epochs" --seed 1
for m in dcgan32 progan32 stylegan32 transgan32; do score $m; done

# dcgan for as long as stylegan (then transgan) took (the sum of its pieces), stopped by SIGINT, which checkpoints.
walltime() {   # walltime OF NAME: a dcgan run for OF's wall time into OUT/NAME
  local wall; wall=$(paste -sd+ "$out/$1/wall-pieces.txt" | bc)
  if [ ! -f "$out/$2/checkpoint.safetensors" ]; then
    timeout -s INT "$wall" "$ganforge" train --model dcgan --epochs 1000 --seed 1 --threads "$threads" --data fashion-mnist --image-size 32 \
      --log-every 100 --out "$out/$2" >> "$out/$2.log" 2>&1 || true
  fi
  score "$2"
}
walltime stylegan32 dcgan32-walltime
walltime transgan32 dcgan32-walltime-transgan

for psi in 0.5 0.7 1.0; do
  [ -f "$out/stylegan32-psi$psi.eval.json" ] && continue
  "$ganforge" sample --checkpoint "$out/stylegan32" --count 10000 --seed 0 --truncation "$psi" --out "$out/stylegan32-psi$psi.idx"
  "$ganforge" eval --images "$out/stylegan32-psi$psi.idx" --data fashion-mnist --seed 0 --json "$out/stylegan32-psi$psi.eval.json" > "$out/stylegan32-psi$psi.eval.txt" 2>&1
  "$ganforge" sample --checkpoint "$out/stylegan32" --count 64 --seed 0 --truncation "$psi" --out "$out/stylegan32-psi$psi.png"
done
"$ganforge" mix --checkpoint "$out/stylegan32" --out "$out/stylegan32-mix.png"
"$ganforge" noise --checkpoint "$out/stylegan32" --out "$out/stylegan32-noise.png"

# The first 10 test images as PNGs (B of the edge pairs is the image itself), then one projection each.
[ -d "$out/targets" ] || "$ganforge" pairs --data fashion-mnist --split test --pairs edges --limit 10 --image-size 32 \
  --out-a "$out/targets-edges" --out-b "$out/targets"
for i in $(seq 0 9); do
  f=$(printf "%06d" "$i")
  [ -f "$out/project-$f.txt" ] || "$ganforge" project --checkpoint "$out/stylegan32" --image "$out/targets/$f.png" \
    --out "$out/project-$f.npy" --steps 500 > "$out/project-$f.txt" 2>&1
done
echo "done: $out"
