package ai.mvar.cuda;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Launches the neighbourhood-attention kernels on raw device addresses (a DJL tensor's data
 * pointer or memory from cuMemAlloc), so it works with any allocator of the primary context.
 *
 * <p>Every launch goes to the legacy default stream (a null stream handle), the stream PyTorch
 * uses unless told otherwise: launches are ordered after the engine's pending work on the inputs
 * and before its later work on the outputs, with no synchronisation on the host.
 */
public final class NaLauncher {
    private final CudaModule module;

    public NaLauncher(CudaModule module) {
        this.module = module;
    }

    public CudaModule module() {
        return module;
    }

    /**
     * {@code out = softmax(scale * q k^T) v} over each query's window; writes each query's
     * log-sum-exp of the scaled scores to {@code lse} (fp32) unless it is 0. Runs the tensor-core
     * kernel where {@link NaGeometry#forwardTile()} has a tile, else one warp per query.
     */
    public void forward(NaGeometry g, long q, long k, long v, long out, long lse, float scale) {
        var tile = g.forwardTile();
        if (tile.isEmpty()) {
            forwardPerQuery(g, q, k, v, out, lse, scale);
            return;
        }
        forwardTiled(g, tile.get(), q, k, v, out, lse, scale);
    }

    /** The tensor-core forward with a given tile of {@link NaTile#candidates}; the benchmark compares them. */
    void forwardTiled(NaGeometry g, NaTile t, long q, long k, long v, long out, long lse, float scale) {
        checkAligned(g, q, k, v, out);
        module.makeCurrent();
        Pointer[] args = {ptr(q), ptr(k), ptr(v), ptr(out), ptr(lse), ptr(g.side()), ptr(g.kernelSize()),
            Pointer.to(new float[] {scale}), ptr(t.rows()), ptr(t.cols()), ptr(t.keyCapacity())};
        JCudaDriver.cuLaunchKernel(module.function(g.functionName(KernelEntry.FORWARD_TILED)),
                (int) t.blocks(g.batchHeads()), 1, 1, t.threads(), 1, 1, t.sharedBytes(), null,
                Pointer.to(args), null);
    }

    /**
     * The forward with one warp per query whatever the precision: the only one for fp32 and wide
     * windows; for fp16 the benchmark's and tests' baseline.
     */
    void forwardPerQuery(NaGeometry g, long q, long k, long v, long out, long lse, float scale) {
        checkAligned(g, q, k, v, out);
        launch(g, KernelEntry.FORWARD, ptr(q), ptr(k), ptr(v), ptr(out), ptr(lse),
                ints(g), ptr(g.side()), ptr(g.kernelSize()), Pointer.to(new float[] {scale}));
    }

    /**
     * Gradients of the forward pass for upstream gradient {@code dout}, given its output
     * {@code o} and {@code lse}; {@code delta} is fp32 scratch of {@link NaGeometry#rows()} entries.
     */
    public void backward(NaGeometry g, long q, long k, long v, long o, long dout, long lse,
                         long dq, long dk, long dv, long delta, float scale) {
        checkAligned(g, q, k, v, o, dout, dq, dk, dv);
        Pointer side = ptr(g.side());
        Pointer ks = ptr(g.kernelSize());
        Pointer sc = Pointer.to(new float[] {scale});
        launch(g, KernelEntry.BACKWARD_DQ, ptr(q), ptr(k), ptr(v), ptr(o), ptr(dout), ptr(lse), ptr(dq),
                ptr(delta), ints(g), side, ks, sc);
        // Same stream: dk/dv starts after dq has written every delta.
        launch(g, KernelEntry.BACKWARD_DKDV, ptr(q), ptr(k), ptr(v), ptr(dout), ptr(lse), ptr(delta),
                ptr(dk), ptr(dv), ints(g), side, ks, sc);
    }

    private void launch(NaGeometry g, KernelEntry entry, Pointer... args) {
        module.makeCurrent();
        JCudaDriver.cuLaunchKernel(module.function(g.functionName(entry)),
                g.gridX(), 1, 1, NaGeometry.BLOCK_THREADS, 1, 1, 0, null, Pointer.to(args), null);
    }

    private static void checkAligned(NaGeometry g, long... addresses) {
        for (long a : addresses) {
            if (a == 0 || a % g.alignment() != 0) {
                throw new IllegalArgumentException(String.format(
                        "device address 0x%x is null or not %d-byte aligned", a, g.alignment()));
            }
        }
    }

    /** A 64-bit kernel argument: a device address passed by value. */
    private static Pointer ptr(long address) {
        return Pointer.to(new long[] {address});
    }

    private static Pointer ptr(int value) {
        return Pointer.to(new int[] {value});
    }

    private static Pointer ints(NaGeometry g) {
        return ptr(g.batchHeads());
    }
}
