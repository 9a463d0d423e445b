#!/usr/bin/env bash
# Runs inside a bundle made by scripts/gpu-tests.sh, on a GPU machine that has the NVIDIA driver
# but no Java: the benchmark (which fails loudly when CUDA cannot load), the GPU tests (a skipped
# test counts as a failure here, since skipping means CUDA did not load), and, when Python with
# PyTorch is present, PyTorch's scaled_dot_product_attention on the same problem.
#   run-gpu-tests.sh [benchmark arguments: batch heads side headDim kernelSize f16|f32 iterations]
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
java="$here/runtime/bin/java"
launcher="$(ls "$here"/lib/junit-platform-console-standalone-*.jar)"
cp="$here/test-classes"
for jar in "$here"/lib/*.jar; do
    [[ "$jar" == "$launcher" ]] || cp="$cp:$jar"
done
status=0

echo "== fused neighbourhood attention: benchmark"
"$java" -cp "$cp" ai.mvar.cuda.NaBenchmark "$@" || status=1

echo "== GPU tests"
log="$(mktemp)"
"$java" -jar "$launcher" execute --disable-banner --class-path "$cp" --fail-if-no-tests --details=tree \
    --select-class ai.mvar.cuda.NaKernelGpuTest \
    --select-class ai.mvar.cuda.NaKernelGradientGpuTest \
    --select-class ai.mvar.cuda.NaGeometryTest \
    --select-class ai.mvar.cuda.HalfTest 2>&1 | tee "$log"
[[ ${PIPESTATUS[0]} == 0 ]] || status=1
# An unmet assumption is reported as "aborted", a disabled test as "skipped": both mean not run.
notrun=0
for kind in skipped aborted; do
    n="$(grep -oE "\[ +[0-9]+ tests $kind" "$log" | grep -oE '[0-9]+' || echo 0)"
    notrun=$((notrun + n))
done
[[ "$notrun" == 0 ]] || { echo "FAIL: $notrun GPU tests did not run (CUDA did not load?)"; status=1; }

if command -v python3 >/dev/null && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    echo "== PyTorch scaled_dot_product_attention, equivalent mask"
    python3 "$here/bench_sdpa.py" "$@" || status=1
    if [[ $# == 0 ]]; then  # NaBenchmark's extra shapes: side headDim k as in EXTRA_SHAPES
        for shape in "32 64 7" "16 128 7" "8 64 7"; do
            set -- $shape
            python3 "$here/bench_sdpa.py" 64 16 "$1" "$2" "$3" f16 50 || status=1
        done
    fi
else
    echo "== no Python with CUDA PyTorch: SDPA comparison not run"
fi
exit $status
