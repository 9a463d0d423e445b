#!/usr/bin/env bash
# Builds, on a machine with a JDK, Maven and the inputs below, the one file a GPU machine without
# Java, Maven or network needs besides this repository's working tree: target/gpu-bundle.tar.xz.
# scripts/gpu/device.sh runs it there (docs/gpu.md has the exact command). It holds:
#   runtime/         jlink image of this JDK (the modules below), include/ kept to compile a JNI library
#   lib/             the command line's jars and dependencies, without the CPU libtorch jar
#   test/            JUnit's console launcher, every module's compiled tests (GPU test list, probes)
#   djl/             DJL's PyTorch JNI build inputs at tag v0.36.0, with the JNI header javac writes
#   reference/       the public reference code (VAR, MVAR) at the commits scripts/reference_bench.py pins
#   fixtures/        the parity fixtures ($MVAR_REFERENCE_DIR)
#
#   scripts/gpu/bundle.sh [--no-build]
#
# Inputs: $DJL_SRC (default /work/.mirror/deepjavalibrary+djl/repo), $VAR_SRC and $MVAR_SRC (git
# sources of the reference code; default the /work/.mirror copies, else GitHub), $MVAR_REFERENCE_DIR.
# Maven runs offline unless MVN_OFFLINE=0 (the first run downloads JUnit's console launcher).
# Further steps (other issues' checks) add themselves as scripts/gpu/bundle.d/*.sh, sourced in
# order with $BUNDLE set, before the archive is written.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="$ROOT/target/gpu-bundle"
ARCHIVE="$ROOT/target/gpu-bundle.tar.xz"
LIMIT_MIB=64
# java.desktop: the PNG grids of `mvar sample` (AWT images, ImageIO; headless)
MODULES=java.base,java.logging,jdk.unsupported,java.management,java.sql,java.naming,java.xml,java.desktop
CONSOLE=org.junit.platform:junit-platform-console-standalone:1.14.1
DJL_SRC="${DJL_SRC:-/work/.mirror/deepjavalibrary+djl/repo}"
VAR_SRC="${VAR_SRC:-$([[ -d /work/.mirror/FoundationVision+VAR/repo ]] && echo /work/.mirror/FoundationVision+VAR/repo || echo https://github.com/FoundationVision/VAR)}"
MVAR_SRC="${MVAR_SRC:-$([[ -d /work/.mirror/CVL-UESTC+MVAR/repo ]] && echo /work/.mirror/CVL-UESTC+MVAR/repo || echo https://github.com/CVL-UESTC/MVAR)}"
FIXTURES="${MVAR_REFERENCE_DIR:-$ROOT/../shared/fixtures/reference}"
mvn_offline=$([[ "${MVN_OFFLINE:-1}" == 1 ]] && echo -o || true)
say() { echo "bundle: $*" >&2; }
die() { echo "bundle: error: $*" >&2; exit 1; }

[[ -d "$FIXTURES" ]] || die "no fixtures at $FIXTURES (set MVAR_REFERENCE_DIR)"
git --git-dir="$DJL_SRC" rev-parse -q --verify refs/tags/v0.36.0 >/dev/null || die "$DJL_SRC has no tag v0.36.0 (set DJL_SRC)"

cd "$ROOT"
if [[ "${1:-}" != "--no-build" ]]; then
  say "building (mvn package, tests compiled, not run) ..."
  mvn -B -q $mvn_offline -Dstyle.color=never package -DskipTests -pl mvar-cli -am
fi
rm -rf "$BUNDLE" "$ARCHIVE"
mkdir -p "$BUNDLE"/{lib,test/classes,fixtures}

say "jars: the command line's class path without the CPU libtorch"
tr ':' '\n' <mvar-cli/target/classpath.txt | grep -v '/pytorch-native-cpu-' | while read -r jar; do cp "$jar" "$BUNDLE/lib/"; done
cp "$(ls mvar-cli/target/mvar-cli-*.jar | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | head -n 1)" "$BUNDLE/lib/"
# JCuda's natives jar also carries the NVPTX compiler's JNI (24 MB), which nothing here loads: the
# driver compiles the PTX.
python3 - "$BUNDLE"/lib/jcuda-natives-*.jar <<'EOF'
import os, sys, zipfile
jar = sys.argv[1]
with zipfile.ZipFile(jar) as src, zipfile.ZipFile(jar + ".new", "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if "JNvPTXCompiler" not in item.filename:
            dst.writestr(item, src.read(item.filename))
os.replace(jar + ".new", jar)
EOF
# The console launcher carries JUnit Jupiter (api, params, engine) itself.
mvn -B -q $mvn_offline -Dstyle.color=never dependency:copy -Dartifact="$CONSOLE" -DoutputDirectory="$BUNDLE/test"
for m in mvar-core mvar-cuda mvar-train mvar-cli; do
  [[ -d "$m/target/test-classes" ]] && cp -r "$m/target/test-classes" "$BUNDLE/test/classes/$m"
done

say "runtime: jlink ($MODULES), include/ kept"
jlink --add-modules "$MODULES" --strip-debug --no-man-pages --compress=0 --output "$BUNDLE/runtime"
strip --strip-unneeded "$BUNDLE/runtime/lib/server/libjvm.so" 2>/dev/null || true

say "DJL v0.36.0 JNI inputs from $DJL_SRC"
mkdir -p "$BUNDLE/djl"
native=engines/pytorch/pytorch-native
library=engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java
git --git-dir="$DJL_SRC" archive v0.36.0 "$native/CMakeLists.txt" "$native/src/main/native" api/src/main/native "$library" \
  | tar -x -C "$BUNDLE/djl"
mkdir -p "$BUNDLE/djl/$native/build/include" "$BUNDLE/djl/.classes"
javac -h "$BUNDLE/djl/$native/build/include" -d "$BUNDLE/djl/.classes" "$BUNDLE/djl/$library"
rm -rf "$BUNDLE/djl/.classes"

say "reference code (pinned commits) from $VAR_SRC and $MVAR_SRC"
python3 - "$BUNDLE/reference" "$VAR_SRC" "$MVAR_SRC" <<'EOF'
import pathlib, sys
sys.path.insert(0, "scripts")
import reference_bench as rb
out = pathlib.Path(sys.argv[1])
rb.checkout(out, "VAR", sys.argv[2])
rb.checkout(out, "MVAR", sys.argv[3])
EOF

say "fixtures from $FIXTURES"
cp "$FIXTURES"/*.safetensors "$FIXTURES"/README.md "$BUNDLE/fixtures/"

for extra in "$ROOT"/scripts/gpu/bundle.d/*.sh; do
  [[ -f "$extra" ]] || continue
  say "extra step $(basename "$extra")"
  # shellcheck disable=SC1090
  source "$extra"
done

say "checking: the runtime starts and loads the command line"
"$BUNDLE/runtime/bin/java" -cp "$BUNDLE/lib/*" ai.mvar.cli.Mvar --version >/dev/null

tar -C "$ROOT/target" -cf - gpu-bundle | xz -9 -T0 >"$ARCHIVE"
bytes=$(stat -c %s "$ARCHIVE")
mib=$(( (bytes + 1048575) / 1048576 ))
say "$(du -sh "$BUNDLE" | cut -f1) unpacked: $(cd "$BUNDLE" && du -sh -- * | tr '\t' ' ' | paste -sd, -)"
echo "bundle: $ARCHIVE: $bytes bytes ($mib MiB of $LIMIT_MIB)"
[[ $mib -le $LIMIT_MIB ]] || die "the archive exceeds $LIMIT_MIB MiB"
