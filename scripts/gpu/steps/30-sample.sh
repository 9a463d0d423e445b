#!/usr/bin/env bash
# The issue's command: './mvar sample --device gpu' with the bundled Fashion-MNIST model, fp16 by
# default; twice with the same seed (the same images, byte for byte), and once in fp32.
set -uo pipefail
dev=$([[ "$DEVICE" == cpu ]] && echo cpu || echo gpu)
s="$OUT/samples"
rm -rf "$s"
status=0
mvar sample --device "$dev" --per-class 2 --out "$s/a" || status=1
mvar sample --device "$dev" --per-class 2 --out "$s/b" || status=1
mvar sample --device "$dev" --per-class 2 --precision fp32 --out "$s/fp32" || status=1
if [[ $status == 0 ]]; then
  for f in "$s"/a/*.png; do
    cmp -s "$f" "$s/b/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs between two runs with the same seed"; status=1; }
  done
  [[ $status == 0 ]] && echo "same seed, same images: $(ls "$s"/a/*.png | wc -l) PNGs identical"
  # Only the grids come back (small); the per-image PNGs stay.
  for run in a fp32; do cp "$s/$run/grid.png" "$OUT/sample-grid-$run.png"; done
  rm -rf "$s"
fi
exit "$status"
