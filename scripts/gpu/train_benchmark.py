#!/usr/bin/env python3
"""Issue #13's benchmark: training iterations of Java MVAR and VAR beside the public reference
trainer, in one run.

Every measurement is a fresh process: the Java TrainingProbe (ai.mvar.train.bench.TrainingProbe)
and scripts/reference_train_bench.py, with the same model (a preset, random weights), batch, random
tokens, precision and MVAR's ratio_k schedule. Order: Java MVAR, reference MVAR, Java VAR,
reference VAR. What each runs: one warm-up cycle, then --cycles timed cycles (an MVAR cycle is
ratio_k iterations on the scale-Markov block and one on each neighbourhood scale; a VAR cycle one
iteration on the whole pyramid), every iteration a forward, backward and optimizer step between two
device synchronisations.

    train_benchmark.py --java "<java> <options> -cp <class path>" --python <python with torch>
                       --checkout <reference code> --out <folder> [--device gpu0] [--precision fp16]
                       [--model d16] [--batch 32] [--ratio-k 8] [--cycles 2] [--timeout-s 150]

Writes <out>/train-bench.jsonl (every probe's JSON) and <out>/train-bench.md (the table and the
issue's goal ratios), and prints the table. Time per iteration: the median iteration; time per
pass over the pyramid: each span's median iteration added up (VAR: the iteration). Memory: the
device memory the process holds after the cycles (nvidia-smi for the process, else the driver's
used memory; the caching allocator keeps its peak) minus what it held before the model existed,
read the same way for Java and Python (on the CPU: the peak resident set's rise); the reference's
torch.cuda.max_memory_allocated beside it.
"""
import json
import pathlib
import shlex
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmark import PROJECT, fmt, goals_table, preset_and_depth, ratio, run, side_by_side_parser  # noqa: E402


def parse_args(argv):
    p = side_by_side_parser(__doc__.split("\n\n")[0])
    p.add_argument("--model", default="d16", help="preset[@depth], e.g. d16 or d16@2")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ratio-k", type=int, default=8)
    p.add_argument("--cycles", type=int, default=2)
    p.add_argument("--timeout-s", type=float, default=150, help="per probe")
    return p.parse_args(argv)


def java_probe(a, mode, log):
    preset_name, depth = preset_and_depth(a.model)
    preset = json.loads((PROJECT / "configs" / f"{preset_name}.json").read_text())
    tok, tr = preset["tokenizer"], preset["transformer"]
    patch_nums = ",".join(str(p) for p in tok["patch_nums"])
    cmd = shlex.split(a.java) + ["ai.mvar.train.bench.TrainingProbe", mode.upper(), str(depth or tr["depth"]),
                                 str(tr["embed_dim"]), str(tr["num_heads"]), str(a.batch), str(a.cycles), str(a.ratio_k),
                                 patch_nums, str(tr["refine_step"]), str(tr["kernel_size"]), str(tok["vocab_size"]),
                                 str(tok["z_channels"]), a.device, a.precision.upper()]
    return run(cmd, "PROBE", a.timeout_s, log)


def reference_probe(a, mode, log):
    preset, depth = preset_and_depth(a.model)
    cuda = a.device != "cpu"
    cmd = [a.python, str(PROJECT / "scripts" / "reference_train_bench.py"), "--mode", mode, "--preset", preset,
           "--batch", str(a.batch), "--ratio-k", str(a.ratio_k), "--cycles", str(a.cycles),
           "--device", "cuda" if cuda else "cpu", "--dtype", a.precision if cuda else "fp32",
           "--checkout", str(a.checkout)]
    if depth:
        cmd += ["--depth", str(depth)]
    return run(cmd, "REFERENCE_TRAIN", a.timeout_s, log)


def table(r, a):
    keys = ("java mvar", "ref mvar", "java var", "ref var")
    get = {k: r.get(k, {}) for k in keys}
    lines = [f"Training iterations, {a.model}, batch {a.batch}, {a.device} {a.precision}, random weights and tokens,"
             f" MVAR ratio_k {a.ratio_k}; median of {a.cycles} cycles after a warm-up one; each a fresh process.", "",
             "| | Java MVAR | ref MVAR | Java/ref | Java VAR | ref VAR | Java/ref |", "|---|---|---|---|---|---|---|"]

    def row(label, field, digits=1):
        jm, rm, jv, rv = (get[k].get(field) for k in keys)
        lines.append(f"| {label} | {fmt(jm, digits)} | {fmt(rm, digits)} | {fmt(ratio(jm, rm), 2)} | {fmt(jv, digits)}"
                     f" | {fmt(rv, digits)} | {fmt(ratio(jv, rv), 2)} |")
    row("time per iteration (ms)", "iteration_ms")
    row("time per pass over the pyramid (ms)", "pass_ms")
    row("time per cycle (ms)", "cycle_ms")
    row("peak memory over the context (MiB)", "peak_over_context_mib")
    lines.append(f"| reference max_memory_allocated (MiB) | | {fmt(get['ref mvar'].get('max_allocated_mib'))} | |"
                 f" | {fmt(get['ref var'].get('max_allocated_mib'))} | |")
    lines.append(f"| memory instrument | {get['java mvar'].get('memory_source', 'n/a')} | {get['ref mvar'].get('memory_source', 'n/a')}"
                 f" | | {get['java var'].get('memory_source', 'n/a')} | {get['ref var'].get('memory_source', 'n/a')} | |")
    lines.append(f"| neighbourhood kernel in training | {get['java mvar'].get('neighbourhood_kernel', 'n/a')} |"
                 f" masked SDPA (NATTEN replaced) | | | | |")

    def mem(k):
        return get[k].get("peak_over_context_mib")
    goals = [
        ("Java MVAR training peak memory / reference MVAR, same batch", ratio(mem("java mvar"), mem("ref mvar")), "<= 1.0",
         lambda x: x <= 1.0),
        ("Java MVAR / Java VAR training peak memory", ratio(mem("java mvar"), mem("java var")), "<= 0.6",
         lambda x: x <= 0.6),
        ("Java time per pass / reference, MVAR", ratio(get["java mvar"].get("pass_ms"), get["ref mvar"].get("pass_ms")),
         "<= 1.1", lambda x: x <= 1.1),
        ("Java time per pass / reference, VAR", ratio(get["java var"].get("pass_ms"), get["ref var"].get("pass_ms")),
         "<= 1.1", lambda x: x <= 1.1),
        ("reference MVAR / VAR training peak memory (for comparison)", ratio(mem("ref mvar"), mem("ref var")), "", None),
    ]
    return "\n".join(lines + goals_table(13, goals)) + "\n"


def main(argv):
    a = parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    results = {}
    with open(a.out / "train-bench.jsonl", "w") as jsonl, open(a.out / "train-bench-probes.log", "w") as log:
        for mode in ("mvar", "var"):
            for side, probe in (("java", java_probe), ("ref", reference_probe)):
                print(f"[{time.time() - start:5.0f} s] {side} {mode.upper()} {a.model} B{a.batch} training ...", flush=True)
                rec = probe(a, mode, log)
                results[f"{side} {mode}"] = rec
                jsonl.write(json.dumps({"side": side, "mode": mode, "model": a.model, "batch": a.batch, **rec}) + "\n")
                jsonl.flush()
                if "pass_ms" in rec:
                    print(f"         {rec['iteration_ms']:.1f} ms per iteration, {rec['pass_ms']:.1f} ms per pass,"
                          f" {rec['peak_over_context_mib']:.0f} MiB", flush=True)
    text = table(results, a)
    (a.out / "train-bench.md").write_text(text)
    print(text, flush=True)
    return 1 if any("error" in rec for rec in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
