#!/usr/bin/env bash
# The GPU device check, run from the repository root on a machine with an NVIDIA GPU, PyTorch in a
# Python environment, cmake and g++, but no Java, Maven or network (docs/gpu.md):
#
#   bash scripts/gpu/device.sh target/gpu-bundle.tar.xz        (made here by scripts/gpu/bundle.sh)
#
# Unpacks the bundle, builds DJL's PyTorch JNI against this machine's torch (scripts/build-djl-jni.sh),
# then runs every scripts/gpu/steps/*.sh in order (doctor, GPU tests, sampling, benchmark; other
# issues add theirs) and writes the log, the benchmark tables and a summary under $OUT (default
# target/gpu-out). A failing step does not stop the others; the exit code is 1 if any failed.
#
# Environment:
#   TORCH_PYTHON   the Python whose torch is used (default /opt/torch/.venv/bin/python)
#   DEVICE         gpu0 (default) or cpu: cpu checks this script on a machine without a GPU
#   PYTORCH_LIBRARY_PATH, PYTORCH_VERSION, PYTORCH_FLAVOR   when set, that libtorch (with a JNI DJL
#                  finds) is used as it is and no JNI is built (the CPU check points at DJL's CPU one)
#   BUDGET_S       seconds the whole run may take (default 420); the benchmark starts no configuration
#                  that would run past it
#   BENCH_CONFIGS  the benchmark's configurations (default: scripts/gpu/benchmark.py's, the issue's)
#   STEPS          a pattern of the steps to run (default: all, e.g. STEPS='[1-3]0-*')
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ARCHIVE="${1:-$ROOT/target/gpu-bundle.tar.xz}"
export OUT="${OUT:-$ROOT/target/gpu-out}"
export DEVICE="${DEVICE:-gpu0}"
export BUDGET_S="${BUDGET_S:-420}"
export TORCH_PYTHON="${TORCH_PYTHON:-/opt/torch/.venv/bin/python}"
export ROOT
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device.log") 2>&1
export RUN_START=$SECONDS RUN_EPOCH="$(date +%s)"
say() { echo "== [$((SECONDS - RUN_START)) s] $*"; }

say "device check on $(hostname), $(date -u +%FT%TZ), repository $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '(no git)')"
[[ -f "$ARCHIVE" ]] || { echo "no bundle $ARCHIVE: make it with scripts/gpu/bundle.sh where Java and Maven are"; exit 2; }
export B="${BUNDLE_DIR:-/tmp/mvar-gpu-bundle}"
rm -rf "$B" && mkdir -p "$B"
if command -v xz >/dev/null; then
  tar -xJf "$ARCHIVE" -C "$B" --strip-components=1
else
  "$TORCH_PYTHON" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$ARCHIVE" "$B.tmp" \
    && mv "$B.tmp"/gpu-bundle/* "$B" && rm -rf "$B.tmp"
fi
say "bundle unpacked into $B ($(du -sh "$B" | cut -f1))"

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv
[[ -d /usr/local/cuda/bin ]] && export PATH="$PATH:/usr/local/cuda/bin"
command -v nvcc >/dev/null && nvcc --version | tail -n 2
if [[ -x "$TORCH_PYTHON" ]] || command -v "$TORCH_PYTHON" >/dev/null; then
  TORCH_DIR="$("$TORCH_PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
  "$TORCH_PYTHON" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available())'
else
  TORCH_DIR=""
  echo "no $TORCH_PYTHON: the reference benchmark cannot run"
fi

export DJL_CACHE_DIR="$B/djl-cache"
if [[ -z "${PYTORCH_LIBRARY_PATH:-}" ]]; then
  say "building DJL's JNI against $TORCH_DIR"
  cuda=$([[ "$DEVICE" == cpu ]] || echo --cuda)
  env_line="$(bash "$ROOT/scripts/build-djl-jni.sh" --djl-src "$B/djl" --python "$TORCH_PYTHON" $cuda \
    --java-home "$B/runtime" --work "$B/jni-build")" || { say "JNI build FAILED: nothing Java can run"; exit 1; }
  # shellcheck disable=SC2163
  for kv in $env_line; do export "$kv"; done
fi
say "libtorch for Java: PYTORCH_LIBRARY_PATH=$PYTORCH_LIBRARY_PATH PYTORCH_VERSION=${PYTORCH_VERSION:-} PYTORCH_FLAVOR=${PYTORCH_FLAVOR:-}"

# DJL counts GPUs through libcudart, which it loads with JNA by name: show JNA the one torch uses.
cudart="$(find -L "$PYTORCH_LIBRARY_PATH" "$PYTORCH_LIBRARY_PATH/../../nvidia" /usr/local/cuda/lib64 -maxdepth 4 \
  -name 'libcudart.so*' 2>/dev/null | head -n 1)"
export JAVA="$B/runtime/bin/java"
export JAVA_OPTS="-Xmx16g -Dai.djl.offline=true -Dmvar.home=$ROOT${cudart:+ -Djna.library.path=$(dirname "$cudart")}"
export CLASSPATH_MAIN="$B/lib/*"
export MVAR_REFERENCE_DIR="$B/fixtures"
export TORCH_CPP_LOG_LEVEL=ERROR
mvar() { "$JAVA" $JAVA_OPTS -cp "$CLASSPATH_MAIN" ai.mvar.cli.Mvar "$@"; }
export -f mvar

failed=()
summary=()
for step in "$ROOT"/scripts/gpu/steps/${STEPS:-*}.sh; do
  [[ -f "$step" ]] || continue
  name="$(basename "$step" .sh)"
  say "step $name"
  t0=$SECONDS
  if bash "$step"; then status=ok; else status="FAILED (exit $?)"; failed+=("$name"); fi
  summary+=("$name: $status, $((SECONDS - t0)) s")
done

say "summary"
printf '  %s\n' "${summary[@]}" | tee "$OUT/summary.txt"
echo "  total $((SECONDS - RUN_START)) s; logs in $OUT" | tee -a "$OUT/summary.txt"
[[ ${#failed[@]} -eq 0 ]]
