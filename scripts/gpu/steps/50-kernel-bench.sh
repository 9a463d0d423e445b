#!/usr/bin/env bash
# The fused kernel alone (NaBenchmark, raw device memory through JCuda: forward, and its backward dq,
# dk, dv) beside PyTorch's SDPA with the equivalent mask (forward; forward and backward) and beside
# the tiled kernel training runs (Probe attention through DJL: forward and backward), on the
# reference's finest-scale shape: B=64, 16 heads, 16x16, D=64, k=7, fp16. The fused backward is worth
# wiring into training only if its forward and backward beat the tiled kernel's (docs/training.md).
# The last step of the run: one JVM for the tiled kernel, within the time the benchmark leaves.
set -uo pipefail
[[ "$DEVICE" == cpu ]] && { echo "no GPU: skipped"; exit 0; }
shape=(64 16 16 64 7 f16 200)
cp=""
for dir in "$B"/test/classes/*; do cp="$cp:$dir"; done
"$JAVA" $JAVA_OPTS -cp "${cp#:}:$B/lib/*" ai.mvar.cuda.NaBenchmark "${shape[@]}" || exit 1
"$TORCH_PYTHON" "$ROOT/scripts/bench_sdpa.py" "${shape[@]}" || exit 1
# Probe attention <tiling> <side> <k> <batch> <heads> <headDim> <reps> <device> <precision> <pass>
line="$("$JAVA" $JAVA_OPTS -cp "$B/lib/*" ai.mvar.bench.Probe attention auto "${shape[2]}" "${shape[4]}" \
  "${shape[0]}" "${shape[1]}" "${shape[3]}" 50 "$DEVICE" fp16 backward | grep '^RESULT')" || exit 1
read -r _ ms _ <<<"$line"
printf 'java tiled kernel (training), forward + backward (dq, dk, dv) %9.1f us\n' "$(awk -v ms="$ms" 'BEGIN { print ms * 1000 }')"
