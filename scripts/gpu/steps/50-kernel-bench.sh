#!/usr/bin/env bash
# The fused kernel alone (NaBenchmark, raw device memory through JCuda: forward, and its backward dq,
# dk, dv) beside PyTorch's SDPA with the equivalent mask (forward; forward and backward) and beside
# the tiled kernel training runs (Probe attention through DJL: forward; forward and backward), on the
# reference's finest-scale shape: B=64, 16 heads, 16x16, D=64, k=7, fp16. The fused backward is worth
# wiring into training only if it beats the tiled kernel's backward (docs/training.md).
set -uo pipefail
[[ "$DEVICE" == cpu ]] && { echo "no GPU: skipped"; exit 0; }
shape=(64 16 16 64 7 f16 200)
cp=""
for dir in "$B"/test/classes/*; do cp="$cp:$dir"; done
"$JAVA" $JAVA_OPTS -cp "${cp#:}:$B/lib/*" ai.mvar.cuda.NaBenchmark "${shape[@]}" || exit 1
"$TORCH_PYTHON" "$ROOT/scripts/bench_sdpa.py" "${shape[@]}" || exit 1
status=0
for pass in forward backward; do
  # Probe attention <tiling> <side> <k> <batch> <heads> <headDim> <reps> <device> <precision> <pass>
  line="$("$JAVA" $JAVA_OPTS -cp "$B/lib/*" ai.mvar.bench.Probe attention auto "${shape[2]}" "${shape[4]}" \
    "${shape[0]}" "${shape[1]}" "${shape[3]}" 50 "$DEVICE" fp16 "$pass" | grep '^RESULT')" || status=1
  read -r _ ms _ <<<"$line"
  label=$([[ "$pass" == backward ]] && echo "forward + backward (dq, dk, dv)" || echo forward)
  printf 'java tiled kernel (training), %-32s %9.1f us\n' "$label" "$(awk -v ms="${ms:-nan}" 'BEGIN { print ms * 1000 }')"
done
exit $status
