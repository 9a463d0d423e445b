package ai.mvar.cuda;

import java.util.List;
import java.util.Optional;

/**
 * One neighbourhood-attention problem and how it is launched: {@code batchHeads} independent
 * {@code side x side} maps with {@code headDim}-wide rows, window {@code kernelSize}.
 *
 * <p>The static window helpers are the Java twin of the device functions in
 * {@code kernels/neighbourhood_attention.cu}; the tests check both against brute force, so a
 * change of the rule must be made in both places.
 */
public record NaGeometry(int batchHeads, int side, int kernelSize, int headDim, Precision precision) {

    /** Head dims with a compiled kernel: 32 lanes each own headDim / 32 elements (1, 2 or 4). */
    public static final List<Integer> HEAD_DIMS = List.of(32, 64, 128);
    /** Threads per block: four warps, i.e. four queries (or keys) per block. */
    public static final int BLOCK_THREADS = 128;
    static final int WARP = 32;

    public NaGeometry {
        if (batchHeads < 1 || side < 1) {
            throw new IllegalArgumentException("empty problem: batchHeads " + batchHeads + ", side " + side);
        }
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("kernel size must be odd and positive (NATTEN), got " + kernelSize);
        }
        if (!HEAD_DIMS.contains(headDim)) {
            throw new IllegalArgumentException("head dim " + headDim + " has no kernel; supported: " + HEAD_DIMS);
        }
        if (precision == null) {
            throw new IllegalArgumentException("precision is required");
        }
        long blocks = ((long) batchHeads * side * side * WARP + BLOCK_THREADS - 1) / BLOCK_THREADS;
        if (precision == Precision.F16) {
            int bh = batchHeads;
            blocks = Math.max(blocks, NaTile.choose(side, kernelSize, headDim).map(t -> t.blocks(bh)).orElse(0L));
        }
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("problem too large for a one-dimensional grid: " + blocks + " blocks");
        }
    }

    /** First key row (or column) of the window of query row {@code i}. */
    public static int windowStart(int i, int side, int kernelSize) {
        int ke = Math.min(kernelSize, side);
        return Math.min(Math.max(i - kernelSize / 2, 0), side - ke);
    }

    /**
     * The query rows whose window contains key row {@code j}, as {@code {first, last}}: a range,
     * because {@link #windowStart} is non-decreasing in the query row.
     */
    public static int[] inverseRange(int j, int side, int kernelSize) {
        int ke = Math.min(kernelSize, side);
        int h = kernelSize / 2;
        int hi = j >= side - ke ? side - 1 : Math.min(side - 1, j + h);
        int lo = j - ke + 1 <= 0 ? 0 : j - ke + 1 + h;
        return new int[] {lo, hi};
    }

    /** Window side actually used: the whole map when it is smaller than the kernel. */
    public int effectiveKernel() {
        return Math.min(kernelSize, side);
    }

    public int tokens() {
        return side * side;
    }

    /** Elements of one of q, k, v, o: batchHeads x tokens x headDim. */
    public long elements() {
        return (long) batchHeads * tokens() * headDim;
    }

    public long tensorBytes() {
        return elements() * precision.bytes();
    }

    /** Entries of the fp32 per-query statistics (lse, delta). */
    public long rows() {
        return (long) batchHeads * tokens();
    }

    /**
     * The tile of the tensor-core forward when it takes this problem (fp16 and a window of at most
     * {@link NaTile#MAX_WINDOW}); otherwise the forward runs one warp per query.
     */
    public Optional<NaTile> forwardTile() {
        return precision == Precision.F16 ? NaTile.choose(side, kernelSize, headDim) : Optional.empty();
    }

    /** Blocks of {@link #BLOCK_THREADS} so that every query (or key) gets one warp. */
    public int gridX() {
        return (int) ((rows() * WARP + BLOCK_THREADS - 1) / BLOCK_THREADS);
    }

    /**
     * Byte alignment every tensor address needs: each lane of a warp-per-query kernel loads
     * headDim / 32 elements at once; the tensor-core forward copies 16 bytes at once.
     */
    public int alignment() {
        return forwardTile().isPresent() ? 16 : headDim / WARP * precision.bytes();
    }

    public String functionName(KernelEntry entry) {
        return entry.functionName(precision, headDim);
    }
}
