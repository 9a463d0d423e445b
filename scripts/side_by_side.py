#!/usr/bin/python3
"""The public reference code (scripts/reference_bench.py) and `mvar bench` with the same settings on
the CPU, one after the other, each mode in a fresh process; prints one table with both and their
ratios (Java / reference, MVAR / VAR).

    /usr/bin/python3 scripts/side_by_side.py --preset d16 --batch 1 [--depth N] [--reps 2] [--threads 2]

Before measuring it checks Debian's python3-torch and libopenblas0-pthread (installing them with
apt-get when missing and running as root) and that libblas.so.3 is OpenBLAS: Debian's default
reference BLAS is about 27x slower at GEMM and no fair peer. The reference code is checked out
beside the project (scripts/reference_bench.py --checkout; never inside the repository's history),
and every change made to it is listed in the output. Run timing comparisons on an otherwise idle
machine: the two sides run one after the other, so load that comes and goes skews their ratio.

Options: --preset, --depth, --batch, --cfg, --top-k, --top-p, --reps (warm runs per process),
--threads (both sides), --checkout/--var-src/--mvar-src (passed to reference_bench.py),
--only reference|java, --json FILE (every reading).
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

SCRIPTS = pathlib.Path(__file__).resolve().parent
PROJECT = SCRIPTS.parent
ROW = re.compile(r"^\| (VAR|MVAR) \(.*?\) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+|n/a) \|")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="d16")
    p.add_argument("--depth", type=int)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--cfg", type=float)
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--checkout")
    p.add_argument("--var-src")
    p.add_argument("--mvar-src")
    p.add_argument("--only", choices=["reference", "java"])
    p.add_argument("--json", type=pathlib.Path)
    return p.parse_args(argv)


def ensure_debian_packages():
    missing = [pkg for pkg in ("python3-torch", "libopenblas0-pthread")
               if subprocess.run(["dpkg", "-s", pkg], capture_output=True).returncode != 0]
    if missing:
        if os.geteuid() != 0:
            raise SystemExit(f"install {' '.join(missing)} (apt-get install {' '.join(missing)}) and rerun")
        print(f"installing {' '.join(missing)} ...", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    if "openblas" not in blas:
        raise SystemExit(f"libblas.so.3 is {blas}: select OpenBLAS (update-alternatives --config"
                         " libblas.so.3-x86_64-linux-gnu) so the reference's GEMMs are a fair peer")
    return blas


def shared(a):
    """The options both sides take, spelled as mvar bench spells them."""
    opts = ["--preset", a.preset, "--batch", str(a.batch), "--reps", str(a.reps)]
    for flag, value in (("--depth", a.depth), ("--cfg", a.cfg), ("--top-k", a.top_k), ("--top-p", a.top_p)):
        if value is not None:
            opts += [flag, str(value)]
    return opts


def reference(a, mode, env):
    cmd = ["/usr/bin/python3", str(SCRIPTS / "reference_bench.py"), "--mode", mode, "--threads", str(a.threads)]
    cmd += shared(a)
    for flag, value in (("--checkout", a.checkout), ("--var-src", a.var_src), ("--mvar-src", a.mvar_src)):
        if value:
            cmd += [flag, value]
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"reference {mode} failed:\n{out.stderr[-4000:]}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("REFERENCE "))
    return json.loads(line[len("REFERENCE "):])


def java(a, env):
    cmd = [str(PROJECT / "mvar"), "bench", "--random"] + shared(a)
    print("$ OMP_NUM_THREADS=%s " % env["OMP_NUM_THREADS"] + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"mvar bench failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    rows = {}
    for line in out.stdout.splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = {"median_ms": float(m.group(2)), "cold_peak_rise_mib": float(m.group(3)),
                                "warm_peak_rise_mib": None if m.group(4) == "n/a" else float(m.group(4))}
    if set(rows) != {"VAR", "MVAR"}:
        raise SystemExit("could not read mvar bench's table:\n" + out.stdout)
    print(out.stdout, file=sys.stderr)
    return rows


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def table(ref, jv):
    lines = ["| | reference ms | Java ms | Java / ref time | reference cold MiB | Java cold MiB | Java / ref cold"
             " | reference warm MiB | Java warm MiB | Java / ref warm |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    keys = ("median_ms", "cold_peak_rise_mib", "warm_peak_rise_mib")
    for mode in ("VAR", "MVAR"):
        r, j = ref.get(mode, {}), jv.get(mode, {})
        cells = []
        for k in keys:
            cells += [f"{r[k]:.1f}" if r.get(k) is not None else "", f"{j[k]:.1f}" if j.get(k) is not None else "",
                      ratio(j.get(k), r.get(k))]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    cells = []
    for k in keys:
        rr = ratio(ref.get("MVAR", {}).get(k), ref.get("VAR", {}).get(k))
        jj = ratio(jv.get("MVAR", {}).get(k), jv.get("VAR", {}).get(k))
        cells += [rr, jj, ""]
    lines.append("| MVAR / VAR | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    a = parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    ref, jv = {}, {}
    if a.only != "java":
        blas = ensure_debian_packages()
        print(f"reference BLAS: {blas}", file=sys.stderr)
        for mode in ("var", "mvar"):
            ref[mode.upper()] = reference(a, mode, env)
    if a.only != "reference":
        if shutil.which("java") is None:
            raise SystemExit("java is not on PATH")
        jv = java(a, env)
    print(f"side by side: preset {a.preset}, depth {a.depth or 'preset'}, batch {a.batch}, {a.reps} warm run(s) per"
          f" process, {a.threads} threads")
    print()
    print(table(ref, jv))
    if ref:
        changes = ref.get("MVAR", ref.get("VAR"))["changes"]
        print()
        print("Changes to the reference code: " + "; ".join(changes))
        some = next(iter(ref.values()))
        print(f"Reference: torch {some['torch']}, BLAS {some['blas']}, VAR {ref['VAR']['commit'][:7]},"
              f" MVAR {ref['MVAR']['commit'][:7]}")
    if a.json:
        a.json.write_text(json.dumps({"reference": ref, "java": jv}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
