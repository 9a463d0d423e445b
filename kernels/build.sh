#!/usr/bin/env bash
# Compiles kernels/neighbourhood_attention.cu to PTX for compute_80 and compute_90 and writes it,
# with a manifest of checksums, into mvar-cuda's resources, so users need no CUDA toolkit.
#
#   kernels/build.sh           rebuild the committed PTX and manifest
#   kernels/build.sh --check   rebuild into a temporary folder and compare with the committed
#                              files; exit 0 when identical, 1 when they differ, 3 when the nvcc
#                              release differs from the one recorded (byte equality is then not
#                              expected, so the check cannot decide)
#
# The PTX is byte-for-byte reproducible for a given nvcc release (no -lineinfo, so no file paths
# end up in it); the manifest records that release.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/neighbourhood_attention.cu"
res="$here/../mvar-cuda/src/main/resources/ai/mvar/cuda/ptx"
archs=(80 90)

command -v nvcc >/dev/null || { echo "nvcc not on PATH" >&2; exit 2; }
release="$(nvcc --version | grep -o 'release [0-9.]*, V[0-9.]*')"

build() { # $1: output folder
    mkdir -p "$1"
    for a in "${archs[@]}"; do
        # Plain -O3, no fast math: the fp32 kernel must stay within 1e-5 of the reference.
        nvcc -ptx -O3 -std=c++17 -arch="compute_$a" -o "$1/neighbourhood_attention.compute_$a.ptx" "$src"
    done
    (
        cd "$1"
        echo "nvcc: $release"
        sha256sum "$src" | awk '{print $1 "  neighbourhood_attention.cu"}'
        for a in "${archs[@]}"; do sha256sum "neighbourhood_attention.compute_$a.ptx"; done
    ) > "$1/neighbourhood_attention.manifest"
}

if [[ "${1:-}" == "--check" ]]; then
    recorded="$(head -1 "$res/neighbourhood_attention.manifest" | sed 's/^nvcc: //')"
    if [[ "$recorded" != "$release" ]]; then
        echo "committed PTX was built by nvcc $recorded, this is nvcc $release: cannot compare" >&2
        exit 3
    fi
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    build "$tmp"
    status=0
    for f in "$tmp"/*; do
        name="$(basename "$f")"
        if ! cmp -s "$f" "$res/$name"; then
            echo "$name differs from the committed copy: run kernels/build.sh" >&2
            status=1
        fi
    done
    [[ $status == 0 ]] && echo "committed PTX matches kernels/neighbourhood_attention.cu"
    exit $status
fi

build "$res"
echo "wrote $(cd "$res" && pwd)"
