"""PyTorch's scaled_dot_product_attention with the mask equivalent to MVAR's neighbourhood window,
timed like NaBenchmark (CUDA events, mean over iterations), for comparison with the fused kernel:
the forward, and the forward and backward (dq, dk, dv) as autograd computes them in training, the
differentiable path a fused backward would have to beat (docs/training.md).
Arguments as NaBenchmark: batch heads side headDim kernelSize f16|f32 iterations."""
import sys

import torch
import torch.nn.functional as F


def window_mask(side, k, device):
    """[N, N] bool, True where query (row) may attend key (column): the reference window rule."""
    ke = min(k, side)
    start = torch.tensor([min(max(i - k // 2, 0), side - ke) for i in range(side)], device=device)
    pos = torch.arange(side, device=device)
    rows = (pos[None, :] >= start[:, None]) & (pos[None, :] < start[:, None] + ke)  # [query row, key row]
    return (rows[:, None, :, None] & rows[None, :, None, :]).reshape(side * side, side * side)


def time_ms(fn, iterations):
    for _ in range(10):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn()
    stop.record()
    torch.cuda.synchronize()
    return start.elapsed_time(stop) / iterations


def main(argv):
    args = [int(a) if a.isdigit() else a for a in argv]
    defaults = [64, 16, 16, 64, 7, "f16", 200]
    b, h, side, d, k, dtype, iterations = args + defaults[len(args):]
    dtype = torch.float16 if dtype == "f16" else torch.float32
    n = side * side
    q, kk, v = (torch.randn(b, h, n, d, device="cuda", dtype=dtype) for _ in range(3))
    mask = window_mask(side, k, "cuda")
    assert int(mask.sum(1).min()) == min(k, side) ** 2
    masked = time_ms(lambda: F.scaled_dot_product_attention(q, kk, v, attn_mask=mask), iterations)
    dense = time_ms(lambda: F.scaled_dot_product_attention(q, kk, v), iterations)
    qg, kg, vg = (t.clone().requires_grad_(True) for t in (q, kk, v))
    dout = torch.randn_like(q)
    backward = time_ms(lambda: torch.autograd.grad(F.scaled_dot_product_attention(qg, kg, vg, attn_mask=mask),
                                                   (qg, kg, vg), dout), iterations)
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}: map={side}x{side} headDim={d} k={k}")
    print(f"sdpa, window mask  {masked * 1e3:9.1f} us")
    print(f"sdpa, no mask      {dense * 1e3:9.1f} us (dense attention, not equivalent; for scale)")
    print(f"sdpa, window mask, forward + backward (dq, dk, dv)  {backward * 1e3:9.1f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
