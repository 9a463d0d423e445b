#!/usr/bin/env python3
"""Issue #12's benchmark: Java MVAR and VAR beside the public reference code, in one run.

Every measurement is a fresh process (a fresh caching allocator, so its device memory is the task's
alone): the Java probe (ai.mvar.bench.Probe, a GenerationTask) and scripts/reference_bench.py, with
the same preset, batch, precision and sampling settings (cfg 1.5, top-k 900, top-p 0.96, random
weights). Per configuration the order is Java MVAR, reference MVAR, Java VAR, reference VAR.

    benchmark.py --java "<java> <options> -cp <class path>" --python <python with torch>
                 --checkout <reference code> --out <folder> [--device gpu0] [--precision fp16]
                 [--configs d16:32,d24:64,d16:64,d24:32,d16:32:decode] [--reps 3] [--budget-s 240]

A configuration is preset[@depth]:batch[:decode]: d16@2:1 is d16 cut to two blocks at batch 1 (the
CPU check of the scripts).

Writes <out>/bench.jsonl (every probe's JSON) and <out>/bench.md (the tables and the issue's goal
ratios), and prints the tables. Time is the median of the warm runs, each synchronised with the
device. Memory: the device memory the process holds after the cold run (nvidia-smi for the process,
else the driver's used memory; the caching allocator keeps its peak), minus what it held before the
model existed (CUDA context, libraries): weights, activations and allocator slack, read the same way
for Java and Python. The reference's torch.cuda.max_memory_allocated is listed beside it (the
issue's anchor, 2603 MiB for MVAR-d16 B32); DJL exposes no allocator statistics for Java.
"""
import argparse
import json
import pathlib
import shlex
import subprocess
import sys
import time

PROJECT = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = {"cfg": 1.5, "top_k": 900, "top_p": 0.96}
DEFAULT_CONFIGS = "d16:32,d24:64,d16:64,d24:32,d16:32:decode"


def side_by_side_parser(description):
    """The options every Java-beside-the-reference benchmark takes: the two sides, where results go, device and precision."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--java", required=True, help="java command with options and class path")
    p.add_argument("--python", default=sys.executable, help="the Python that runs the reference code")
    p.add_argument("--checkout", required=True, type=pathlib.Path, help="reference code folder (VAR/, MVAR/)")
    p.add_argument("--out", required=True, type=pathlib.Path)
    p.add_argument("--device", default="gpu0", help="gpu<N> or cpu")
    p.add_argument("--precision", default="fp16", choices=["fp16", "fp32"])
    return p


def parse_args(argv):
    p = side_by_side_parser(__doc__.split("\n\n")[0])
    p.add_argument("--configs", default=DEFAULT_CONFIGS,
                   help="preset[@depth]:batch[:decode], comma-separated, most important first")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--budget-s", type=float, default=240, help="start no configuration after this many seconds")
    p.add_argument("--timeout-s", type=float, default=180, help="per probe")
    return p.parse_args(argv)


def configs(text):
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "decode"):
            raise SystemExit(f"configuration '{item}' is not preset[@depth]:batch[:decode]")
        out.append((parts[0], int(parts[1]), len(parts) == 3))
    return out


def preset_and_depth(name):
    """'d16@2' -> ('d16', 2); 'd16' -> ('d16', 0): the preset's own depth."""
    preset, _, depth = name.partition("@")
    return preset, int(depth) if depth else 0


def run(cmd, marker, timeout, log):
    """Runs a probe; returns the JSON after `marker`, or an error record with the output's tail."""
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        output = p.stdout + p.stderr
        code = p.returncode
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        code = "timeout"
    log.write(f"$ {shlex.join(cmd)}\n{output}\n")
    log.flush()
    for line in output.splitlines():
        if line.startswith(marker + " "):
            r = json.loads(line[len(marker) + 1:])
            r["wall_s"] = time.time() - t0
            return r
    tail = "\n".join(output.splitlines()[-15:])
    print(f"  probe failed (exit {code}):\n{tail}", flush=True)
    return {"error": f"exit {code}", "wall_s": time.time() - t0}


def java_probe(a, name, batch, decode, mode, log):
    preset, depth = preset_and_depth(name)
    precision = a.precision.upper()
    cmd = shlex.split(a.java) + ["ai.mvar.bench.Probe", "preset", f"mode={mode.upper()}",
                                 f"preset={PROJECT / 'configs' / (preset + '.json')}", f"batch={batch}",
                                 f"reps={a.reps}", f"cfg={SETTINGS['cfg']}", f"topK={SETTINGS['top_k']}",
                                 f"topP={SETTINGS['top_p']}", "temperature=1.0", f"depth={depth}", f"precision={precision}",
                                 f"device={a.device}", f"decode={str(decode).lower()}"]
    return run(cmd, "PROBE", a.timeout_s, log)


def reference_probe(a, name, batch, decode, mode, log):
    preset, depth = preset_and_depth(name)
    cuda = a.device != "cpu"
    cmd = [a.python, str(PROJECT / "scripts" / "reference_bench.py"), "--mode", mode, "--preset", preset,
           "--batch", str(batch), "--cfg", str(SETTINGS["cfg"]), "--top-k", str(SETTINGS["top_k"]),
           "--top-p", str(SETTINGS["top_p"]), "--device", "cuda" if cuda else "cpu",
           "--dtype", a.precision if cuda else "fp32", "--reps", str(a.reps), "--checkout", str(a.checkout)]
    if decode:
        cmd.append("--decode")
    if depth:
        cmd += ["--depth", str(depth)]
    return run(cmd, "REFERENCE", a.timeout_s, log)


def java_mib(r):
    """On a GPU the device memory held at the peak over what the process held before the model; on
    the CPU the resident set's rise over the weights, the one figure the reference's CPU run has too."""
    return r.get("peak_rise_mib") if r.get("device") == "cpu" else r.get("peak_over_context_mib")


def reference_mib(r):
    cold = r.get("cold", {})
    if "process_device_mib" in cold and "device_before_model_mib" in r:
        return cold["process_device_mib"] - r["device_before_model_mib"]
    return cold.get("peak_rise_mib")


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:.{digits}f}"


def ratio(x, y):
    return None if x is None or y in (None, 0) else x / y


def tables(results, a):
    lines = [f"Device {a.device}, {a.precision}, cfg {SETTINGS['cfg']}, top-k {SETTINGS['top_k']}, top-p {SETTINGS['top_p']},"
             f" random weights; median of {a.reps} warm runs after a cold one; each number a fresh process.", "",
             "Time per batch (ms):", "",
             "| model | batch | decode | Java MVAR | ref MVAR | Java/ref | Java VAR | ref VAR | Java/ref | Java MVAR/VAR | ref MVAR/VAR |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (preset, batch, decode), r in results.items():
        jm, rm, jv, rv = (r.get(k, {}).get("median_ms") for k in ("java mvar", "ref mvar", "java var", "ref var"))
        lines.append(f"| {preset} | {batch} | {'yes' if decode else 'no'} | {fmt(jm)} | {fmt(rm)} | {fmt(ratio(jm, rm), 2)}"
                     f" | {fmt(jv)} | {fmt(rv)} | {fmt(ratio(jv, rv), 2)} | {fmt(ratio(jm, jv), 2)} | {fmt(ratio(rm, rv), 2)} |")
    held = ("the peak resident set's rise over the loaded weights (VmHWM)" if a.device == "cpu" else
            "device memory held beyond the CUDA context, weights included")
    lines += ["", f"Peak memory (MiB): {held}, the same instrument for both; the reference's"
              " max_memory_allocated beside it:", "",
              "| model | batch | decode | Java MVAR | ref MVAR | Java/ref | Java VAR | ref VAR | Java VAR/MVAR | ref VAR/MVAR"
              " | ref MVAR allocated | ref VAR allocated | source |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (preset, batch, decode), r in results.items():
        jm, jv = java_mib(r.get("java mvar", {})), java_mib(r.get("java var", {}))
        rm, rv = reference_mib(r.get("ref mvar", {})), reference_mib(r.get("ref var", {}))
        am = r.get("ref mvar", {}).get("cold", {}).get("max_allocated_mib")
        av = r.get("ref var", {}).get("cold", {}).get("max_allocated_mib")
        source = r.get("java mvar", {}).get("memory_source", "n/a")
        lines.append(f"| {preset} | {batch} | {'yes' if decode else 'no'} | {fmt(jm)} | {fmt(rm)} | {fmt(ratio(jm, rm), 2)}"
                     f" | {fmt(jv)} | {fmt(rv)} | {fmt(ratio(jv, jm), 2)} | {fmt(ratio(rv, rm), 2)} | {fmt(am)} | {fmt(av)}"
                     f" | {source} |")
    d16 = results.get(("d16", 32, False), {})
    d24 = results.get(("d24", 64, False), {})

    def time_of(r, k):
        return r.get(k, {}).get("median_ms")
    goals = [
        ("Java MVAR-d16 B32 time / reference MVAR-d16 B32", ratio(time_of(d16, "java mvar"), time_of(d16, "ref mvar")),
         "<= 1.0 (stretch 0.85)", lambda x: x <= 1.0),
        ("Java MVAR-d16 B32 peak memory / reference", ratio(java_mib(d16.get("java mvar", {})),
                                                          reference_mib(d16.get("ref mvar", {}))), "<= 1.0", lambda x: x <= 1.0),
        ("Java VAR / Java MVAR peak memory, d16 B32", ratio(java_mib(d16.get("java var", {})),
                                                           java_mib(d16.get("java mvar", {}))), ">= 2.5", lambda x: x >= 2.5),
        ("Java VAR / Java MVAR peak memory, d24 B64", ratio(java_mib(d24.get("java var", {})),
                                                           java_mib(d24.get("java mvar", {}))), ">= 3.8", lambda x: x >= 3.8),
        ("Java MVAR time / Java VAR time, d16 B32", ratio(time_of(d16, "java mvar"), time_of(d16, "java var")),
         "<= 0.9", lambda x: x <= 0.9),
    ]
    return "\n".join(lines + goals_table(12, goals)) + "\n"


def goals_table(issue, goals):
    """Markdown rows of (name, measured ratio or None, goal text, test or None for a row without a goal)."""
    lines = ["", f"Goals (issue #{issue}):", "", "| ratio | measured | goal | met |", "|---|---|---|---|"]
    for name, value, goal, ok in goals:
        met = "" if ok is None else "n/a" if value is None else ("yes" if ok(value) else "no")
        lines.append(f"| {name} | {fmt(value, 3)} | {goal} | {met} |")
    return lines


def main(argv):
    a = parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    results = {}
    with open(a.out / "bench.jsonl", "w") as jsonl, open(a.out / "bench-probes.log", "w") as log:
        for preset, batch, decode in configs(a.configs):
            if time.time() - start > a.budget_s:
                print(f"budget of {a.budget_s:.0f} s spent: {preset} B{batch}{' decode' if decode else ''} not run", flush=True)
                continue
            r = results.setdefault((preset, batch, decode), {})
            for mode in ("mvar", "var"):
                for side, probe in (("java", java_probe), ("ref", reference_probe)):
                    print(f"[{time.time() - start:5.0f} s] {side} {mode.upper()} {preset} B{batch}"
                          f"{' with decoding' if decode else ''} ...", flush=True)
                    rec = probe(a, preset, batch, decode, mode, log)
                    r[f"{side} {mode}"] = rec
                    jsonl.write(json.dumps({**rec, "side": side, "mode": mode, "config": preset, "batch": batch,
                                            "decode": decode}) + "\n")
                    jsonl.flush()
                    if "median_ms" in rec:
                        print(f"         {rec['median_ms']:.1f} ms", flush=True)
    text = tables(results, a)
    (a.out / "bench.md").write_text(text)
    print(text, flush=True)
    failed = sum(1 for r in results.values() for rec in r.values() if "error" in rec)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
