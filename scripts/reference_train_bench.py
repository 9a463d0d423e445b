#!/usr/bin/env python3
"""Training iterations of the public reference code (CVL-UESTC/MVAR, FoundationVision/VAR): the
reference trainer's forward, backward and optimizer step on random tokens, timed and measured like
the Java TrainingProbe (ai.mvar.train.bench.TrainingProbe), on the CPU or a CUDA GPU. One process
runs one mode; run it beside the Java probe with the same model, batch and precision.

    python3 scripts/reference_train_bench.py --mode {var,mvar} [options]

  --preset NAME|FILE   a preset of this project (configs/NAME.json, default d16)
  --depth N            override the depth (width and heads stay), as the Java probe's depth
  --patch-nums, --refine-step, --kernel-size   override the pyramid and MVAR's settings
  --batch B            samples per iteration (default 32)
  --ratio-k K          MVAR: iterations on the scale-Markov block per cycle (default 8, the reference's)
  --cycles N           timed cycles after one warm-up cycle (default 2); a VAR cycle is one iteration
  --device cpu|cuda    (default cpu)
  --dtype fp32|fp16    fp16: the reference's AmpOptimizer(mixed_precision=1): autocast fp16 and a
                       GradScaler (init 2^11, growth interval 1000); cuda only
  --threads N          CPU threads
  --checkout DIR       where the reference code is checked out (default: ../reference-code)
  --var-src, --mvar-src  git sources of the pinned commits (scripts/reference_bench.py's)
  --json FILE          also write the result as JSON

What one iteration runs, as the reference's MVARTrainer.train_step / VARTrainer.train_step with
stepping=True: the model's forward on the teacher-forcing input of random indices
(quantize.idxBl_to_mvar_input / idxBl_to_var_input) under AmpOptimizer's autocast, cross-entropy
(label smoothing 0, the default) weighted by loss_weight = 1/L sliced to the pass, and
AmpOptimizer.backward_clip_step (scaled backward, unscale, clip_grad_norm_ 2.0, scaler step and
update, zero_grad(set_to_none=True)) around torch.optim.AdamW(betas (0.9, 0.95), fused on CUDA as
train.py's default afuse) with lr 1e-4 and weight decay 0.05 on the groups filter_params decays.
MVAR's iteration g_it trains the span the reference's train_one_ep computes from
cur_prog = g_it % (ratio_k + S - refine_step).

Output: a summary on stderr and one line on stdout,
    REFERENCE_TRAIN {"mode": ..., "cycle_ms": ..., "pass_ms": ..., "span_ms": {...}, ...}
Time: each iteration between two synchronisations; the pass over the pyramid is the sum of each
span's median iteration (VAR: the iteration). Memory on cuda: the device memory the process holds
after the cycles (nvidia-smi for the process, else the driver's used memory; the caching allocator
keeps its peak) minus what it held before the model existed, exactly as the Java probe reads it, and
torch.cuda.max_memory_allocated beside; on cpu: the peak resident set during the timed cycles above
the resident set before the model was built, as the Java probe on the CPU.

Changes to the reference code: those of scripts/reference_bench.py (NATTEN's na2d replaced by
masked attention with the same window rule, einops and the hub mixin stubbed); its model built as
there, then put in training mode with the transformer's parameters requiring gradients (the VQ-VAE
stays frozen, as in training). filter_params is not imported (it needs torch.distributed): its rule
is restated below (no decay for 1-D parameters, biases and the no-decay keys of train.py).
"""
import argparse
import os
import pathlib
import statistics
import sys
import time

SCRIPTS = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))
import reference_bench as rb  # noqa: E402

NO_DECAY_KEYS = {"cls_token", "start_token", "task_token", "cfg_uncond", "pos_embed", "pos_1LC", "pos_start",
                 "start_pos", "lvl_embed", "gamma", "beta", "ada_gss", "moe_bias", "scale_mul"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["var", "mvar"], required=True)
    p.add_argument("--preset", default="d16")
    p.add_argument("--depth", type=int)
    p.add_argument("--patch-nums")
    p.add_argument("--refine-step", type=int)
    p.add_argument("--kernel-size", type=int)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ratio-k", type=int, default=8)
    p.add_argument("--cycles", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32")
    p.add_argument("--threads", type=int)
    p.add_argument("--checkout", type=pathlib.Path, default=rb.PROJECT.parent / "reference-code")
    p.add_argument("--var-src", default=rb.PINNED["VAR"][0])
    p.add_argument("--mvar-src", default=rb.PINNED["MVAR"][0])
    p.add_argument("--json", type=pathlib.Path)
    a = p.parse_args(argv)
    if a.dtype == "fp16" and a.device != "cuda":
        p.error("--dtype fp16 is the reference's CUDA autocast; use it with --device cuda")
    if a.batch < 1 or a.cycles < 1 or a.ratio_k < 1:
        p.error("--batch, --cycles and --ratio-k must be at least 1")
    # reference_bench.settings reads these; sampling settings are not used here
    a.cfg = a.top_k = a.top_p = None
    return a


def param_groups(model, weight_decay):
    """filter_params' groups with the weight decay lr_wd_annealing sets (wd * wd_sc)."""
    decay, no_decay = [], []
    for name, para in model.named_parameters():
        if para.ndim == 1 or name.endswith("bias") or any(k in name for k in NO_DECAY_KEYS):
            no_decay.append(para)
        else:
            decay.append(para)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def spans(mode, s, ratio_k):
    """(L_bg, L_ed, using_nattn) of the iterations of one cycle, as the reference's train_one_ep."""
    ends, cur = [], 0
    for p in s["patch_nums"]:
        ends.append((cur, cur + p * p))
        cur += p * p
    if mode == "var":
        return [(0, cur, False)]
    last, refine = len(s["patch_nums"]) - 1, s["refine_step"]
    out = []
    for cur_prog in range(ratio_k + last + 1 - refine):
        if cur_prog < ratio_k:
            prog_ed = refine - 1
            out.append((ends[0][0], ends[prog_ed][1], False))
        else:
            prog_ed = refine + cur_prog % ratio_k if ratio_k != 1 else refine + (cur_prog - 1)
            out.append((ends[prog_ed][0], ends[prog_ed][1], True))
    return out


def main(argv):
    a = parse_args(argv)
    if a.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    if a.threads:
        os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    name = a.mode.upper()
    code = rb.checkout(a.checkout, name, a.mvar_src if name == "MVAR" else a.var_src)
    s = rb.settings(a)
    changes = rb.install_stubs()
    sys.path.insert(0, str(code))
    import torch
    import torch.nn as nn
    from utils.amp_sc import AmpOptimizer
    if a.threads:
        torch.set_num_threads(a.threads)
    cuda = a.device == "cuda"
    mib = 1024.0 * 1024.0
    if cuda:
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        torch.zeros(1, device="cuda")
        torch.cuda.synchronize()
        before_model = rb.device_memory_used(torch)
    else:
        before_model = (rb.status_bytes("VmRSS:"), "resident set (VmRSS/VmHWM)")
    device = torch.device(a.device)
    vae, model = rb.build(a.mode, s, device)
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)
    changes.append("model in training mode, transformer parameters trainable (VQ-VAE frozen)")

    fused = {"fused": True} if cuda and "fused" in torch.optim.AdamW.__init__.__code__.co_varnames else {}
    optimizer = torch.optim.AdamW(param_groups(model, 0.05), lr=1e-4, betas=(0.9, 0.95), **fused)
    names = [n for n, _ in model.named_parameters()]
    amp = AmpOptimizer(mixed_precision=1 if a.dtype == "fp16" else 0, optimizer=optimizer, names=names,
                       paras=list(model.parameters()), grad_clip=2.0, n_gradient_accumulation=1)
    train_loss = nn.CrossEntropyLoss(label_smoothing=0.0, reduction="none")
    loss_weight = torch.ones(1, s["L"], device=device) / s["L"]

    g = torch.Generator(device="cpu").manual_seed(5)
    gt_idx_Bl = [torch.randint(0, s["V"], (a.batch, p * p), generator=g).to(device) for p in s["patch_nums"]]
    labels = torch.randint(0, s["classes"], (a.batch,), generator=g).to(device)
    gt_BL = torch.cat(gt_idx_Bl, dim=1)
    with torch.no_grad():
        to_input = vae.quantize.idxBl_to_mvar_input if a.mode == "mvar" else vae.quantize.idxBl_to_var_input
        x_BLCv_wo_first_l = to_input(gt_idx_Bl)
    first_l = s["patch_nums"][0] ** 2
    V = s["V"]

    def iteration(L_bg, L_ed, using_nattn):
        gt_Bl = gt_BL[:, L_bg:L_ed]
        with amp.amp_ctx:
            if a.mode == "mvar":
                x = x_BLCv_wo_first_l[:, max(0, L_bg - first_l):L_ed - first_l]
                logits = model(label_B=labels, x_BlCv_wo_first_l=x, L_bg=L_bg, L_ed=L_ed, using_nattn=using_nattn)
            else:
                logits = model(labels, x_BLCv_wo_first_l)
            loss = train_loss(logits.view(-1, V), gt_Bl.reshape(-1)).view(a.batch, -1)
            loss = loss.mul(loss_weight[:, L_bg:L_ed].clone()).sum(dim=-1).mean()
        amp.backward_clip_step(stepping=True, loss=loss)
        return loss

    def sync():
        if cuda:
            torch.cuda.synchronize()

    cycle_spans = spans(a.mode, s, a.ratio_k)
    for span in cycle_spans:  # warm-up
        iteration(*span)
    sync()
    if not cuda:
        rb.trim_c_heap()
        rb.reset_peak_rss()
    by_span, cycles = {}, []
    for _ in range(a.cycles):
        total = 0.0
        for span in cycle_spans:
            sync()
            t0 = time.perf_counter()
            iteration(*span)
            sync()
            ms = (time.perf_counter() - t0) * 1000
            total += ms
            by_span.setdefault(f"{span[0]}-{span[1]}", []).append(ms)
        cycles.append(total)
    span_ms = {k: statistics.median(v) for k, v in by_span.items()}
    r = {"mode": name, "device": a.device, "dtype": a.dtype, "batch": a.batch, "ratio_k": a.ratio_k,
         "cycle_ms": statistics.median(cycles), "cycles_ms": cycles, "span_ms": span_ms,
         "iteration_ms": statistics.median([x for v in by_span.values() for x in v]),
         "pass_ms": sum(span_ms.values()), "before_model_mib": before_model[0] / mib,
         "memory_source": before_model[1], "torch": torch.__version__, "commit": rb.PINNED[name][1],
         "params": sum(p.numel() for p in model.parameters()), "optimizer": f"AdamW{' (fused)' if fused else ''}",
         "changes": changes, **{k: s[k] for k in ("preset", "depth", "width", "heads", "patch_nums", "refine_step",
                                                  "kernel_size", "L")}}
    if cuda:
        held, source = rb.device_memory_used(torch)
        r.update({"gpu": torch.cuda.get_device_name(), "peak_over_context_mib": (held - before_model[0]) / mib,
                  "memory_source": source, "max_allocated_mib": torch.cuda.max_memory_allocated() / mib,
                  "max_reserved_mib": torch.cuda.max_memory_reserved() / mib})
    else:
        r["peak_over_context_mib"] = (rb.status_bytes("VmHWM:") - before_model[0]) / mib
    rb.log(f"{name} reference training, preset {s['preset']} (depth {s['depth']}, width {s['width']}), batch {a.batch},"
           f" {a.device} {a.dtype}, torch {torch.__version__}: {r['iteration_ms']:.1f} ms per iteration,"
           f" {r['pass_ms']:.1f} ms per pass over the pyramid, {r['cycle_ms']:.1f} ms per cycle;"
           f" peak {r['peak_over_context_mib']:.1f} MiB over the context")
    rb.emit("REFERENCE_TRAIN", r, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
