#!/usr/bin/env bash
# The fused kernel alone (NaBenchmark, raw device memory through JCuda) beside PyTorch's SDPA with the
# equivalent mask, on the reference's finest-scale shape: B=64, 16 heads, 16x16, D=64, k=7, fp16.
set -uo pipefail
[[ "$DEVICE" == cpu ]] && { echo "no GPU: skipped"; exit 0; }
shape=(64 16 16 64 7 f16 200)
cp=""
for dir in "$B"/test/classes/*; do cp="$cp:$dir"; done
"$JAVA" $JAVA_OPTS -cp "${cp#:}:$B/lib/*" ai.mvar.cuda.NaBenchmark "${shape[@]}" || exit 1
"$TORCH_PYTHON" "$ROOT/scripts/bench_sdpa.py" "${shape[@]}"
