#!/usr/bin/env bash
# The image-to-image figures of docs/zoo.md ("Image to image"), on Debian's full Fashion-MNIST, scored on the test split:
#   pix2pix: edges -> garment, beside the input itself and the U-Net trained on L1 alone: L1 to the target, PSNR, SSIM,
#            FID of the outputs against the test images, class preservation (the evaluator's label of the output is the
#            true label of the input);
#   cyclegan: sneaker (7) <-> ankle boot (9) and T-shirt (0) <-> shirt (6): per direction the rate at which the evaluator
#            calls the output the target class, the cycle L1 (F(G(a)) against a) and FID against the target domain;
#   srgan: x4 (7 -> 28) and x2: PSNR, SSIM and FID of bicubic, SRResNet and SRGAN, and strips LR | bicubic | SRResNet |
#            SRGAN | HR in docs/samples/.
# Each section writes OUT_DIR/<section>/*.json and prints a markdown table. Runs are skipped when their checkpoint is there.
# Usage: tools/zoo/i2i.sh OUT_DIR [EPOCHS] [SECTIONS]      (SECTIONS: any of pix2pix cyclegan srgan; default all)
# docs/zoo.md's figures: `i2i.sh OUT 1 "pix2pix cyclegan"`, then `TRAIN_ARGS="--max-steps 1250" i2i.sh OUT 1 srgan`.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tools/zoo/i2i.sh OUT_DIR [EPOCHS] [SECTIONS]}
epochs=${2:-5}
sections=${3:-"pix2pix cyclegan srgan"}
# GANFORGE=path/to/ganforge runs a copy of the binaries, so that rebuilding the tree cannot touch running jobs.
ganforge=${GANFORGE:-}
if [ -z "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null
  ganforge=src/GanForge.Cli/bin/Release/net10.0/ganforge
fi
threads=(--threads "${THREADS:-0}")
# For a smoke test of the script itself: TRAIN_ARGS="--max-steps 3" and TEST_LIMIT=200 (test images scored).
read -r -a train_args <<< "${TRAIN_ARGS:-}"
limit=(--limit "${TEST_LIMIT:-0}")
mkdir -p "$out" docs/samples

train() {   # train DIR ARGS...: a run, unless its checkpoint is there
  local dir=$1; shift
  [ -f "$dir/checkpoint.safetensors" ] && return 0
  rm -rf "$dir"
  "$ganforge" train "${threads[@]}" --data fashion-mnist --epochs "$epochs" --log-every 200 --out "$dir" "$@" "${train_args[@]}" > "$dir.log" 2>&1
}
fid() {     # fid IMAGES DATA JSON: FID of the images against the data's test split (its evaluator features)
  "$ganforge" eval --images "$1" --data "$2" --metrics fid --no-floor --json "$3" > /dev/null
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(round(d['summary']['fid']['value'], 2))" "$3"
}
score() {   # score JSON KEY
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(round(d.get(sys.argv[2], float('nan')), 4))" "$1" "$2"
}

if [[ " $sections " == *" pix2pix "* ]]; then
  d="$out/pix2pix"; mkdir -p "$d"
  "$ganforge" pairs --data fashion-mnist --pairs edges --split test "${limit[@]}" --out-a "$d/a.idx" --out-b "$d/b.idx" --out-labels "$d/labels.idx" > /dev/null
  train "$d/pix2pix" --model pix2pix --pairs edges
  train "$d/unet-l1" --model unet-l1 --pairs edges
  echo "| edges -> garment (test split) | L1 to target | PSNR | SSIM | FID | class preserved |"
  echo "|---|---:|---:|---:|---:|---:|"
  for m in input unet-l1 pix2pix; do
    if [ "$m" = input ]; then   # the input itself: bicubic x1 copies the images
      "$ganforge" upscale --bicubic 1 --images "$d/a.idx" --out "$d/$m.idx" --target "$d/b.idx" --labels "$d/labels.idx" --json "$d/$m.json" > /dev/null
    else
      "$ganforge" translate --checkpoint "$d/$m" --images "$d/a.idx" --out "$d/$m.idx" --target "$d/b.idx" --labels "$d/labels.idx" --json "$d/$m.json" > /dev/null
    fi
    echo "| $m | $(score "$d/$m.json" l1) | $(score "$d/$m.json" psnr) | $(score "$d/$m.json" ssim) | $(fid "$d/$m.idx" fashion-mnist "$d/$m-fid.json") | $(score "$d/$m.json" class_agreement) |"
  done
  "$ganforge" pairs --data fashion-mnist --pairs edges --split test --limit 16 --out-a "$d/a16.npy" --out-b "$d/b16.npy" > /dev/null
  for m in unet-l1 pix2pix; do "$ganforge" translate --checkpoint "$d/$m" --images "$d/a16.npy" --out "$d/$m-16.npy" > /dev/null; done
  python3 tools/zoo/strips.py docs/samples/pix2pix-edges.png 8 "$d/a16.npy" "$d/unet-l1-16.npy" "$d/pix2pix-16.npy" "$d/b16.npy"
fi

if [[ " $sections " == *" cyclegan "* ]]; then
  echo "| CycleGAN (test split) | direction | target-class rate | (the input itself) | cycle L1 | FID vs target domain |"
  echo "|---|---|---:|---:|---:|---:|"
  for pair in "7 9" "0 6"; do
    set -- $pair; a=$1; b=$2
    d="$out/cyclegan-$a-$b"; mkdir -p "$d"
    train "$d/run" --model cyclegan --domain-a "fashion-mnist:class=$a" --domain-b "fashion-mnist:class=$b"
    for c in $a $b; do   # the test images of each class (B of any pairs is the image itself)
      "$ganforge" pairs --data "fashion-mnist:class=$c" --pairs masked --split test "${limit[@]}" --out-a "$d/unused.npy" --out-b "$d/class$c.idx" > /dev/null
    done
    for dir in a2b b2a; do
      if [ $dir = a2b ]; then from=$a; to=$b; back=b2a; else from=$b; to=$a; back=a2b; fi
      "$ganforge" translate --checkpoint "$d/run" --direction $dir --images "$d/class$from.idx" --out "$d/$dir.idx" --target-class "$to" --json "$d/$dir.json" > /dev/null
      "$ganforge" translate --checkpoint "$d/run" --direction $back --images "$d/$dir.idx" --out "$d/$dir-cycle.idx" --target "$d/class$from.idx" --json "$d/$dir-cycle.json" > /dev/null
      # the untranslated input's rate: how often the evaluator calls the source images the target class already
      "$ganforge" upscale --bicubic 1 --images "$d/class$from.idx" --out "$d/$dir-input.idx" --target-class "$to" --json "$d/$dir-input.json" > /dev/null
      echo "| $a <-> $b | $from -> $to | $(score "$d/$dir.json" target_class_rate) | $(score "$d/$dir-input.json" target_class_rate) | $(score "$d/$dir-cycle.json" l1) | $(fid "$d/$dir.idx" "fashion-mnist:class=$to" "$d/$dir-fid.json") |"
    done
  done
fi

if [[ " $sections " == *" srgan "* ]]; then
  echo "| super-resolution (test split) | PSNR | SSIM | FID |"
  echo "|---|---:|---:|---:|"
  for s in 4 2; do
    d="$out/sr-x$s"; mkdir -p "$d"
    "$ganforge" pairs --data fashion-mnist --pairs "downscale:$s" --split test "${limit[@]}" --out-a "$d/lr.npy" --out-b "$d/hr.idx" > /dev/null
    train "$d/srresnet" --model srresnet --scale "$s"
    train "$d/srgan" --model srgan --scale "$s"
    for m in bicubic srresnet srgan; do
      if [ $m = bicubic ]; then
        "$ganforge" upscale --bicubic "$s" --images "$d/lr.npy" --out "$d/$m.idx" --target "$d/hr.idx" --json "$d/$m.json" > /dev/null
      else
        "$ganforge" upscale --checkpoint "$d/$m" --images "$d/lr.npy" --out "$d/$m.idx" --target "$d/hr.idx" --json "$d/$m.json" > /dev/null
      fi
      echo "| x$s $m | $(score "$d/$m.json" psnr) | $(score "$d/$m.json" ssim) | $(fid "$d/$m.idx" fashion-mnist "$d/$m-fid.json") |"
    done
    "$ganforge" pairs --data fashion-mnist --pairs "downscale:$s" --split test --limit 16 --out-a "$d/lr16.npy" --out-b "$d/hr16.npy" > /dev/null
    "$ganforge" upscale --bicubic "$s" --images "$d/lr16.npy" --out "$d/bicubic16.npy" > /dev/null
    for m in srresnet srgan; do "$ganforge" upscale --checkpoint "$d/$m" --images "$d/lr16.npy" --out "$d/${m}16.npy" > /dev/null; done
    python3 tools/zoo/strips.py "docs/samples/srgan-x$s.png" 8 "$d/lr16.npy" "$d/bicubic16.npy" "$d/srresnet16.npy" "$d/srgan16.npy" "$d/hr16.npy"
  done
fi
