#!/usr/bin/env bash
# Builds DJL's PyTorch JNI library (libdjl_torch.so) from DJL's own source against any libtorch, and
# installs it where DJL 0.36 looks for it, so the Java engine runs on a libtorch DJL ships no JNI for
# (for example PyTorch 2.11 + CUDA 13: the prebuilt cu128 JNI fails against it with "Cannot access
# data pointer"). DJL's source is a build input only: nothing of it is committed here.
#
#   scripts/build-djl-jni.sh --djl-src DIR --torch DIR [options]
#
#   --djl-src DIR     DJL's source at tag v0.36.0: a checkout, a bare git directory (its tag v0.36.0 is
#                     exported), or the inputs alone as scripts/gpu/bundle.sh packs them
#                     (engines/pytorch/pytorch-native/{CMakeLists.txt,src/main/native},
#                     api/src/main/native, engines/pytorch/pytorch-engine/.../jni/PyTorchLibrary.java)
#   --torch DIR       the libtorch to build against: a libtorch folder or an installed torch Python
#                     package (both hold share/cmake/Torch and lib/)
#   --python PY       instead of --torch: the torch package of this Python (e.g. /opt/torch/.venv/bin/python)
#   --cmake-prefix DIR, --lib DIR   instead of --torch, for a libtorch installed elsewhere (a Linux
#                     distribution's): the folder holding Torch/TorchConfig.cmake, and the folder
#                     holding libtorch.so (only torch's libraries: DJL loads every library in it)
#   --cuda            build with CUDA (-DUSE_CUDA=1; needs the CUDA toolkit the libtorch was built with)
#   --java-home DIR   a JDK or jlink image that keeps include/ (default: $JAVA_HOME, else the java on PATH)
#   --as VER-FLAVOR   the PyTorch version and flavour DJL is told (default 2.7.1-cu128 with --cuda,
#                     2.7.1-cpu without): DJL 0.36 accepts only versions it knows, so a newer libtorch
#                     is announced as 2.7.1 and found by the JNI's location, not by its version
#   --work DIR        build folder (default: a temporary one)
#
# The JNI header comes from `javac -h` on PyTorchLibrary.java when javac is present; without javac
# (a machine with only a Java runtime) the source folder must already hold it in
# engines/pytorch/pytorch-native/build/include/ (scripts/gpu/bundle.sh puts it there).
#
# Prints the environment that makes DJL load the result:
#   PYTORCH_LIBRARY_PATH=<torch>/lib PYTORCH_VERSION=<VER> PYTORCH_FLAVOR=<FLAVOR>
# and installs it as $DJL_CACHE_DIR/pytorch/<VER>-<FLAVOR>-linux-x86_64/0.36.0-libdjl_torch.so
# ($DJL_CACHE_DIR defaults to ~/.djl.ai).
set -euo pipefail

DJL_VERSION=0.36.0
DJL_TAG=v$DJL_VERSION
NATIVE=engines/pytorch/pytorch-native
LIBRARY_JAVA=engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java
HEADER=ai_djl_pytorch_jni_PyTorchLibrary.h

djl_src="" torch="" python="" prefix="" lib="" cuda=0 java_home="${JAVA_HOME:-}" as="" work=""
die() { echo "build-djl-jni: error: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --djl-src) djl_src="$2"; shift 2 ;;
    --torch) torch="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --cmake-prefix) prefix="$2"; shift 2 ;;
    --lib) lib="$2"; shift 2 ;;
    --cuda) cuda=1; shift ;;
    --java-home) java_home="$2"; shift 2 ;;
    --as) as="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n "$djl_src" ]] || die "--djl-src is required"
if [[ -n "$python" ]]; then
  torch="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')" || die "$python cannot import torch"
fi
if [[ -n "$torch" ]]; then
  torch="$(cd "$torch" && pwd)"
  prefix="${prefix:-$torch/share/cmake}" lib="${lib:-$torch/lib}"
fi
[[ -n "$prefix" && -n "$lib" ]] || die "--torch or --python (or --cmake-prefix and --lib) is required"
[[ -f "$prefix/Torch/TorchConfig.cmake" ]] || die "$prefix has no Torch/TorchConfig.cmake"
[[ -f "$lib/libtorch.so" ]] || die "$lib has no libtorch.so"
if [[ -z "$java_home" ]]; then
  java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" || die "no Java found: give --java-home"
fi
[[ -f "$java_home/include/jni.h" ]] || die "$java_home has no include/jni.h (a jlink image needs to keep its header files)"
as="${as:-$([[ $cuda == 1 ]] && echo 2.7.1-cu128 || echo 2.7.1-cpu)}"
[[ "$as" =~ ^([0-9]+\.[0-9]+\.[0-9]+)-([a-z0-9]+)$ ]] || die "--as must look like 2.7.1-cu128, not '$as'"
version="${BASH_REMATCH[1]}" flavor="${BASH_REMATCH[2]}"
if [[ -z "$work" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# The sources: exported from git when given a repository, else used where they are.
src="$djl_src"
if git --git-dir="$djl_src" rev-parse --git-dir >/dev/null 2>&1 || git -C "$djl_src" rev-parse --git-dir >/dev/null 2>&1; then
  gitdir="$(git --git-dir="$djl_src" rev-parse --git-dir 2>/dev/null || git -C "$djl_src" rev-parse --absolute-git-dir)"
  git --git-dir="$gitdir" rev-parse -q --verify "refs/tags/$DJL_TAG" >/dev/null || die "$djl_src has no tag $DJL_TAG"
  src="$work/djl"
  mkdir -p "$src"
  git --git-dir="$gitdir" archive "$DJL_TAG" "$NATIVE/CMakeLists.txt" "$NATIVE/src/main/native" api/src/main/native \
    "$LIBRARY_JAVA" | tar -x -C "$src"
fi
[[ -f "$src/$NATIVE/CMakeLists.txt" ]] || die "$src has no $NATIVE/CMakeLists.txt"
include="$src/$NATIVE/build/include"
if [[ ! -f "$include/$HEADER" ]]; then
  command -v javac >/dev/null || die "no javac to write $HEADER, and $include does not hold it"
  mkdir -p "$include" "$work/classes"
  javac -h "$include" -d "$work/classes" "$src/$LIBRARY_JAVA"
fi

pt_version=""
torch_version="$(sed -n 's/.*PACKAGE_VERSION "\{0,1\}\([0-9.]*\).*/\1/p' "$prefix/Torch/TorchConfigVersion.cmake" | head -n 1)"
[[ "$torch_version" =~ ^(1\.13|2\.0|2\.1)\. ]] && pt_version=V1_13_X   # as DJL's build.sh
echo "build-djl-jni: DJL $DJL_VERSION JNI against torch ${torch_version:-?} ($prefix, $lib; CUDA: $cuda), JAVA_HOME=$java_home" >&2

export JAVA_HOME="$java_home"
cmake -S "$src/$NATIVE" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DUSE_CUDA="$cuda" ${pt_version:+-DPT_VERSION="$pt_version"} -DJAVA_HOME="$java_home" >"$work/cmake.log" 2>&1 \
  || { tail -n 40 "$work/cmake.log" >&2; die "cmake configuration failed (log above)"; }
cmake --build "$work/build" --config Release -- -j "$(nproc)" >"$work/build.log" 2>&1 \
  || { grep -m 20 -B 2 -A 6 'error' "$work/build.log" >&2 || tail -n 40 "$work/build.log" >&2; die "compilation failed"; }
if [[ $cuda == 1 ]]; then
  # As DJL's build.sh: no direct link to the toolkit's cudart/nvrtc; the ones libtorch loads serve.
  (cd "$work/build" && sed -i -r 's/\/usr\/local\/cuda(.{5})?\/lib64\/lib(cudart|nvrtc)\.so//g' CMakeFiles/djl_torch.dir/link.txt \
    && rm -f libdjl_torch.so && . CMakeFiles/djl_torch.dir/link.txt)
fi
[[ -f "$work/build/libdjl_torch.so" ]] || die "no libdjl_torch.so was built"

target="${DJL_CACHE_DIR:-$HOME/.djl.ai}/pytorch/$version-$flavor-linux-x86_64"
mkdir -p "$target"
cp "$work/build/libdjl_torch.so" "$target/$DJL_VERSION-libdjl_torch.so"
echo "build-djl-jni: installed $target/$DJL_VERSION-libdjl_torch.so" >&2
echo "PYTORCH_LIBRARY_PATH=$lib PYTORCH_VERSION=$version PYTORCH_FLAVOR=$flavor"
