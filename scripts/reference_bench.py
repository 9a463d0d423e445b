#!/usr/bin/env python3
"""Token generation with the public reference code (FoundationVision/VAR, CVL-UESTC/MVAR), timed and
measured like `mvar bench`, on the CPU or a CUDA GPU. One process runs one mode (VAR or MVAR): run it
once per mode, in fresh processes, beside `mvar bench` with the same settings (scripts/side_by_side.py
does that on the CPU).

Interface
---------
    python3 scripts/reference_bench.py --mode {var,mvar} [options]

  --preset NAME|FILE     a preset of this project (configs/NAME.json, default d16): patch_nums,
                         depth/width/heads, V, Cvae, classes, refine_step, kernel_size, sampling
  --depth N              override the depth only (width and heads stay), as `mvar bench --depth`
  --patch-nums 1,2,...   override the pyramid (the position embedding follows: L = sum p^2)
  --refine-step N, --kernel-size K   override MVAR's spatial-Markov settings
  --batch B              images per batch (default 1); labels are i % classes, as `mvar bench`
  --cfg X --top-k K --top-p P   sampling settings (default: the preset's)
  --seed S               the reference's g_seed (default 0)
  --device cpu|cuda      (default cpu; cpu hides CUDA from the process)
  --dtype fp32|fp16      fp16 = torch.autocast('cuda', float16), as the reference demos; cuda only
  --tf32 on|off          TF32 matmuls for fp32 on cuda (the demos turn it on; default off)
  --threads N            CPU threads (torch and OpenBLAS; default: all cores)
  --reps N               timed warm runs after the cold one (default 2)
  --decode               also decode f_hat to images (`mvar bench` excludes decoding; so does the default)
  --checkout DIR         where the reference code is checked out (default: ../reference-code beside
                         the project); created when missing, from --var-src/--mvar-src
  --var-src, --mvar-src  git sources (URL or local git dir; default GitHub) of the pinned commits below
  --check-na DIR         instead of a benchmark: the NATTEN replacement against the parity fixtures'
                         `in.na.*`/`out.na` (every <set>-mvar.safetensors in DIR), then exit
  --json FILE            also write the result as JSON

Output: a human-readable summary on stderr and one line on stdout,
    REFERENCE {"mode": ..., "median_ms": ..., "cold_peak_rise_mib": ..., ...}
Time is the median of the warm runs (each synchronised on cuda). Memory on cpu, exactly as
`mvar bench` measures Java: before each run the C heap is trimmed (malloc_trim(0), so memory freed by
building the model or by an earlier run cannot hide this run's needs) and the peak reset through
/proc/self/clear_refs (5); the rise of the peak resident set (VmHWM) over the resident set before the
run is reported for the first (cold) run and, as the largest over the warm runs, for the warm runs. On cuda: torch.cuda.max_memory_allocated (absolute and rise over the weights),
max_memory_reserved, and the device memory this process holds (nvidia-smi, when present, else
mem_get_info's used bytes), each after the cold and the warm runs, and once before the model is
built (device_before_model_mib: the CUDA context and torch's libraries).

Changes to the reference code (its files are checked out unmodified; these are injected at import):
  * NATTEN's na2d (not installable here): dense attention under a boolean mask with the same window
    rule (window of row i starts at clamp(i - k/2, 0, p - k), columns alike; the mask is
    scripts/bench_sdpa.py's window_mask), through F.scaled_dot_product_attention when torch has it,
    else softmax(q k^T * scale + mask) v. Checked against NATTEN's own outputs with --check-na.
  * einops: a stub of `rearrange` for the two patterns models/basic_mvar.py uses.
  * huggingface_hub.PyTorchModelHubMixin: an empty class (only VARHF, which is not used, needs it).
  * numpy, only if it is missing: linspace/abs/argmin through torch (models/quant.py's phi ticks).
  * Models are built with the classes' constructors and init_weights, as build_vae_var/build_vae_mvar
    do, but with width and heads from the preset (so `--depth` keeps them, as `mvar bench --depth`);
    the VQ-VAE's parameters, which those builders leave uninitialised, get trunc_normal(std 0.02).
  * Decoding is skipped unless --decode: VAR's autoregressive_infer_cfg decodes at its end, so its
    VQVAE.fhat_to_img is replaced by the identity; MVAR's autoregressive_infer returns f_hat.
"""
import argparse
import contextlib
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import types

SCRIPTS = pathlib.Path(__file__).resolve().parent
PROJECT = SCRIPTS.parent
PINNED = {
    "VAR": ("https://github.com/FoundationVision/VAR", "78b95394fc5896192e3a003e4b295f8ea743c48f",
            ["models", "dist.py", "utils/amp_sc.py", "LICENSE"]),
    "MVAR": ("https://github.com/CVL-UESTC/MVAR", "d0e035abcdaa8be7d7d5ec8673a98292fdbf73c5",
             ["models", "utils/dist.py", "utils/amp_sc.py", "LICENSE"]),
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["var", "mvar"])
    p.add_argument("--preset", default="d16")
    p.add_argument("--depth", type=int)
    p.add_argument("--patch-nums")
    p.add_argument("--refine-step", type=int)
    p.add_argument("--kernel-size", type=int)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--cfg", type=float)
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32")
    p.add_argument("--tf32", choices=["on", "off"], default="off")
    p.add_argument("--threads", type=int)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--decode", action="store_true")
    p.add_argument("--checkout", type=pathlib.Path, default=PROJECT.parent / "reference-code")
    p.add_argument("--var-src", default=PINNED["VAR"][0])
    p.add_argument("--mvar-src", default=PINNED["MVAR"][0])
    p.add_argument("--check-na", type=pathlib.Path)
    p.add_argument("--json", type=pathlib.Path)
    a = p.parse_args(argv)
    if a.check_na is None and a.mode is None:
        p.error("--mode is required (var or mvar)")
    if a.dtype == "fp16" and a.device != "cuda":
        p.error("--dtype fp16 is the reference's CUDA autocast; use it with --device cuda")
    if a.batch < 1 or a.reps < 1:
        p.error("--batch and --reps must be at least 1")
    return a


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The reference code: checked out (only what generation and training iterations import) at pinned commits.

def checkout(root, name, source):
    """<root>/<name> holding the pinned commit's models, dist and AmpOptimizer (reference_train_bench.py)
    files; never modified afterwards."""
    url, commit, paths = PINNED[name]
    target = root / name
    stamp = target / ".reference-commit"
    wanted = " ".join([commit] + paths)
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        git_dir = source
        if not (pathlib.Path(source) / "objects").is_dir() and not (pathlib.Path(source) / ".git").is_dir():
            log(f"cloning {source} ...")
            subprocess.run(["git", "clone", "--quiet", "--bare", source, tmp + "/repo"], check=True)
            git_dir = tmp + "/repo"
        elif (pathlib.Path(source) / ".git").is_dir():
            git_dir = str(pathlib.Path(source) / ".git")
        archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", commit, *paths],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    stamp.write_text(wanted + "\n")
    log(f"checked out {name} {commit[:7]} ({' '.join(paths)}) into {target}")
    return target


# ---------------------------------------------------------------------------------------------
# What the reference imports but this machine lacks (see "Changes" in the header).

def na2d_masked(query, key, value, kernel_size, dilation=1, scale=None, **unused):
    """NATTEN's na2d ([B, H, W, heads, D] in and out) as attention under the window mask."""
    import torch
    import torch.nn.functional as F
    from bench_sdpa import window_mask
    if dilation != 1:
        raise ValueError("the NATTEN replacement supports dilation 1 only")
    b, h, w, heads, d = query.shape
    if h != w:
        raise ValueError(f"square maps only, got {h}x{w}")
    scale = d ** -0.5 if scale is None else scale
    mask = _masks.get((h, kernel_size, query.device))
    if mask is None:
        mask = _masks[(h, kernel_size, query.device)] = window_mask(h, kernel_size, query.device)
    q, k, v = (t.permute(0, 3, 1, 2, 4).reshape(b, heads, h * w, d) for t in (query, key, value))
    if hasattr(F, "scaled_dot_product_attention"):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    else:
        scores = (q * scale) @ k.transpose(-2, -1)
        out = scores.masked_fill_(~mask, float("-inf")).softmax(dim=-1) @ v
    return out.reshape(b, heads, h, w, d).permute(0, 2, 3, 1, 4)


_masks = {}


def rearrange(x, pattern, **sizes):
    """The two einops patterns of models/basic_mvar.py."""
    if pattern == "b h (h1 w1) c -> b h1 w1 h c":
        b, heads, n, c = x.shape
        return x.reshape(b, heads, sizes["h1"], sizes["w1"], c).permute(0, 2, 3, 1, 4)
    if pattern == "b h1 w1 h c -> b (h1 w1) (h c)":
        b, h1, w1, heads, c = x.shape
        return x.reshape(b, h1 * w1, heads * c)
    raise NotImplementedError(f"einops stub: pattern {pattern!r} is not one the reference uses")


def install_stubs():
    changes = []
    natten = types.ModuleType("natten")
    natten.na2d = na2d_masked
    sys.modules["natten"] = natten
    changes.append("natten.na2d -> masked attention, same window rule")
    einops = types.ModuleType("einops")
    einops.rearrange = rearrange

    def repeat(*a, **k):
        raise NotImplementedError("einops stub: repeat is imported but not used by the reference")
    einops.repeat = repeat
    sys.modules["einops"] = einops
    changes.append("einops.rearrange -> two-pattern stub")
    hub = types.ModuleType("huggingface_hub")

    class PyTorchModelHubMixin:
        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__()
    hub.PyTorchModelHubMixin = PyTorchModelHubMixin
    sys.modules["huggingface_hub"] = hub
    changes.append("huggingface_hub.PyTorchModelHubMixin -> empty class")
    try:
        import numpy  # noqa: F401
    except ImportError:
        import torch
        np = types.ModuleType("numpy")
        np.linspace = lambda a, b, n: torch.linspace(a, b, n, dtype=torch.float64)
        np.abs = torch.abs
        np.argmin = torch.argmin
        sys.modules["numpy"] = np
        changes.append("numpy (missing) -> linspace/abs/argmin through torch")
    return changes


# ---------------------------------------------------------------------------------------------
# Settings: the project's preset, overridden by the options.

def settings(a):
    path = pathlib.Path(a.preset)
    if not path.is_file():
        path = PROJECT / "configs" / f"{a.preset}.json"
    preset = json.loads(path.read_text())
    tok, tr, smp = preset["tokenizer"], preset["transformer"], preset["sampling"]
    s = {
        "preset": preset["name"],
        "patch_nums": [int(x) for x in a.patch_nums.split(",")] if a.patch_nums else tok["patch_nums"],
        "V": tok["vocab_size"], "Cvae": tok["z_channels"], "ch": tok["ch"],
        "share_quant_resi": tok["share_quant_resi"], "quant_resi": tok["quant_resi"],
        "depth": a.depth or tr["depth"], "width": tr["embed_dim"], "heads": tr["num_heads"],
        "classes": tr["num_classes"], "mlp_ratio": tr["mlp_ratio"], "attn_l2_norm": tr["attn_l2_norm"],
        "refine_step": a.refine_step if a.refine_step is not None else tr["refine_step"],
        "kernel_size": a.kernel_size if a.kernel_size is not None else tr["kernel_size"],
        "cfg": a.cfg if a.cfg is not None else smp["cfg"],
        "top_k": a.top_k if a.top_k is not None else smp["top_k"],
        "top_p": a.top_p if a.top_p is not None else smp["top_p"],
    }
    s["L"] = sum(p * p for p in s["patch_nums"])
    return s


def build(mode, s, device):
    """The reference's VQ-VAE and transformer with random weights, as build_vae_var/_mvar build them."""
    import torch
    import torch.nn as nn
    from models.vqvae import VQVAE
    for clz in (nn.Linear, nn.LayerNorm, nn.BatchNorm2d, nn.SyncBatchNorm, nn.Conv1d, nn.Conv2d,
                nn.ConvTranspose1d, nn.ConvTranspose2d):
        setattr(clz, "reset_parameters", lambda self: None)  # as the builders do, for speed
    torch.manual_seed(1)
    with contextlib.redirect_stdout(sys.stderr):
        vae = VQVAE(vocab_size=s["V"], z_channels=s["Cvae"], ch=s["ch"], test_mode=True,
                    share_quant_resi=s["share_quant_resi"], quant_resi=s["quant_resi"],
                    v_patch_nums=tuple(s["patch_nums"]))
        with torch.no_grad():
            for p in vae.parameters():
                nn.init.trunc_normal_(p, std=0.02)
        common = dict(vae_local=vae, num_classes=s["classes"], depth=s["depth"], embed_dim=s["width"],
                      num_heads=s["heads"], mlp_ratio=s["mlp_ratio"], drop_rate=0.0, attn_drop_rate=0.0,
                      drop_path_rate=0.1 * s["depth"] / 24, norm_eps=1e-6, shared_aln=False,
                      cond_drop_rate=0.1, attn_l2_norm=s["attn_l2_norm"], patch_nums=tuple(s["patch_nums"]),
                      flash_if_available=True, fused_if_available=True)
        if mode == "mvar":
            from models.mvar import MVAR
            model = MVAR(kernel_size=s["kernel_size"], refine_step=s["refine_step"], **common)
        else:
            from models.var import VAR
            model = VAR(**common)
        model.init_weights(init_adaln=0.5, init_adaln_gamma=1e-5, init_head=0.02, init_std=-1)
    vae, model = vae.to(device).eval(), model.to(device).eval()
    for p in list(vae.parameters()) + list(model.parameters()):
        p.requires_grad_(False)
    return vae, model


# ---------------------------------------------------------------------------------------------
# Measurement.

def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def trim_c_heap():
    """malloc_trim(0): freed C-heap pages leave the resident set, so they cannot hide the next run's needs."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def emit(marker, result, path):
    """The result as one JSON line after `marker` on stdout (what the drivers parse), and in `path` when given."""
    line = json.dumps(result)
    print(marker + " " + line, flush=True)
    if path:
        path.write_text(line + "\n")


def reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def device_memory_used(torch):
    """Device memory this process holds: nvidia-smi's per-process figure, else the device's used bytes."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20).stdout
        for line in out.splitlines():
            pid, used = [x.strip() for x in line.split(",")]
            if int(pid) == os.getpid():
                return int(used) * 1024 * 1024, "nvidia-smi"
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    free, total = torch.cuda.mem_get_info()
    return total - free, "mem_get_info (whole device)"


def measure(run, a, torch):
    """Cold run, then a.reps warm runs: times, peak resident rises (cpu) or device peaks (cuda)."""
    cuda = a.device == "cuda"
    mib = 1024.0 * 1024.0
    result = {}
    times, warm_rises = [], []
    for i in range(a.reps + 1):
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        else:
            trim_c_heap()
            base = status_bytes("VmRSS:")
            reset_peak_rss()
        t0 = time.perf_counter()
        run()
        if cuda:
            torch.cuda.synchronize()
        ms = (time.perf_counter() - t0) * 1000
        if cuda:
            peak = torch.cuda.max_memory_allocated()
            used, how = device_memory_used(torch)
            entry = {"max_allocated_mib": peak / mib, "allocated_rise_mib": (peak - base) / mib,
                     "max_reserved_mib": torch.cuda.max_memory_reserved() / mib,
                     "process_device_mib": used / mib, "process_device_source": how}
        else:
            entry = {"peak_rise_mib": (status_bytes("VmHWM:") - base) / mib,
                     "rss_before_mib": base / mib}
        if i == 0:
            result["cold_ms"] = ms
            result["cold"] = entry
        else:
            times.append(ms)
            warm_rises.append(entry)
    result["median_ms"] = statistics.median(times)
    result["warm_ms"] = times
    result["warm"] = warm_rises
    key = "allocated_rise_mib" if cuda else "peak_rise_mib"
    result["cold_peak_rise_mib"] = result["cold"][key]
    result["warm_peak_rise_mib"] = max(w[key] for w in warm_rises)
    return result


def check_na(fixtures):
    """The masked na2d against NATTEN's outputs in every parity fixture set (relative L2 errors)."""
    import torch
    errors = []
    for path in sorted(fixtures.glob("*-mvar.safetensors")):
        raw = path.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        meta = json.loads(header.get("__metadata__", {}).get("meta", "{}"))

        def tensor(name):
            info = header[name]
            if info["dtype"] != "F32":
                raise ValueError(f"{path}: {name} is {info['dtype']}, expected F32")
            lo, hi = info["data_offsets"]
            data = bytearray(raw[8 + n + lo:8 + n + hi])
            return torch.frombuffer(data, dtype=torch.float32).reshape(info["shape"])
        q, k, v, expected = (tensor(x) for x in ("in.na.q", "in.na.k", "in.na.v", "out.na"))
        out = na2d_masked(q, k, v, kernel_size=int(meta["kernel_size"]), scale=q.shape[-1] ** -0.5)
        err = float((out - expected).norm() / expected.norm())
        log(f"NATTEN replacement vs {path.name} out.na {tuple(q.shape)}, k {meta['kernel_size']}:"
            f" relative error {err:.2e}")
        errors.append(err)
    if not errors:
        raise SystemExit(f"no *-mvar.safetensors fixture set in {fixtures}")
    return max(errors)


def main(argv):
    a = parse_args(argv)
    if a.check_na is not None:
        return 0 if check_na(a.check_na) <= 1e-4 else 1
    if a.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the reference picks its device from torch.cuda.is_available()
    if a.threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    name = a.mode.upper()
    code = checkout(a.checkout, name, a.mvar_src if name == "MVAR" else a.var_src)
    s = settings(a)
    changes = install_stubs()
    sys.path.insert(0, str(code))
    import torch
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = a.tf32 == "on"
        # The device memory the process holds before the model exists (CUDA context, torch's
        # libraries): what `mvar bench` subtracts for its "with weights" figure, read the same way.
        torch.zeros(1, device="cuda")
        torch.cuda.synchronize()
        before_model = device_memory_used(torch)
    device = torch.device(a.device)
    vae, model = build(a.mode, s, device)
    if not a.decode:
        vae.fhat_to_img = lambda f_hat: f_hat
        changes.append("decoding skipped (VQVAE.fhat_to_img -> identity)")
    labels = torch.tensor([i % s["classes"] for i in range(a.batch)], device=device)
    autocast = (torch.autocast("cuda", enabled=True, dtype=torch.float16, cache_enabled=True)
                if a.dtype == "fp16" else contextlib.nullcontext())

    def run():
        with torch.inference_mode(), autocast:
            if a.mode == "mvar":
                f_hat = model.autoregressive_infer(B=a.batch, label_B=labels, g_seed=a.seed, cfg=s["cfg"],
                                                   top_k=s["top_k"], top_p=s["top_p"])
                out = vae.fhat_to_img(f_hat) if a.decode else f_hat
            else:
                out = model.autoregressive_infer_cfg(B=a.batch, label_B=labels, g_seed=a.seed, cfg=s["cfg"],
                                                     top_k=s["top_k"], top_p=s["top_p"])
            return out

    blas = "n/a"
    if a.device == "cpu":
        blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
        if "openblas" not in blas:
            log(f"warning: libblas.so.3 is {blas}, not OpenBLAS: GEMMs will be far slower than the project's")
    r = measure(run, a, torch)
    params = sum(p.numel() for p in model.parameters())
    r.update({"mode": name, "device": a.device, "dtype": a.dtype, "batch": a.batch, "reps": a.reps,
              "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas,
              "commit": PINNED[name][1], "params": params, "changes": changes, **s})
    if a.device == "cuda":
        r["gpu"] = torch.cuda.get_device_name()
        r["device_before_model_mib"] = before_model[0] / (1024.0 * 1024.0)
        r["device_before_model_source"] = before_model[1]
    log(f"{name} reference, preset {s['preset']} (depth {s['depth']}, width {s['width']}, {s['heads']} heads,"
        f" patch_nums {s['patch_nums']}, L {s['L']}), batch {a.batch}, cfg {s['cfg']}, top-k {s['top_k']},"
        f" top-p {s['top_p']}, {a.device} {a.dtype}, torch {torch.__version__}, {r['threads']} threads:")
    log(f"  time per batch {r['median_ms']:.1f} ms (median of {a.reps} warm; cold {r['cold_ms']:.1f} ms);"
        f" peak rise cold {r['cold_peak_rise_mib']:.1f} MiB, warm {r['warm_peak_rise_mib']:.1f} MiB")
    emit("REFERENCE", r, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
