package ai.mvar.cuda;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Launch shape of the tiled tensor-core forward ({@code na_fwd_tc_f16_d<D>}): each block computes
 * a {@code rows x cols} tile of queries of one slice, with {@code warps} warps of 16 query rows
 * each, and stages in shared memory the rectangle of keys its queries can see, padded to
 * {@code keyCapacity} keys.
 *
 * <p>{@link #sharedBytes} and {@link #block} are the Java twin of the kernel's shared-memory
 * layout and of its decoding of {@code blockIdx.x}; a change to either must be made in both places.
 */
public record NaTile(int side, int kernelSize, int headDim, int rows, int cols) {

    /** Widest window the kernel takes (a lane holds at most 6 of the ke * ke window scores). */
    public static final int MAX_WINDOW = 13;
    /** Most queries per block: four warps of 16 query rows. */
    public static final int MAX_QUERIES = 64;
    /**
     * Shared memory any tile may use, requested once per function with
     * {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}: the per-block limit of compute
     * capability 8.6 and 8.9, the smallest of those that load the compute_80 PTX (8.0 allows
     * 163 KB, 9.0 227 KB), and two blocks still fit a 9.0 SM (228 KB).
     */
    public static final int MAX_SHARED_BYTES = 99 * 1024;
    /** fp16 rows are padded by 8 halves (16 bytes), fp32 score rows by 4 floats. */
    static final int PAD_HALVES = 8;
    static final int PAD_FLOATS = 4;

    public NaTile {
        if (rows < 1 || cols < 1 || rows > side || cols > side || rows * cols > MAX_QUERIES) {
            throw new IllegalArgumentException("tile " + rows + "x" + cols + " on a " + side + " map");
        }
    }

    /**
     * The tile with the least estimated work for this problem among those whose shared memory fits
     * {@link #MAX_SHARED_BYTES}, or empty when the window is wider than {@link #MAX_WINDOW}.
     * Work per block is taken as keys x (query rows + 32): tensor-core work grows with both, the
     * loads with the keys.
     */
    public static Optional<NaTile> choose(int side, int kernelSize, int headDim) {
        long key = ((long) side << 40) | ((long) kernelSize << 20) | headDim;
        return CHOSEN.computeIfAbsent(key, x -> search(side, kernelSize, headDim));
    }

    /** Memo of {@link #choose}: asked at every launch, searched once per problem shape. */
    private static final Map<Long, Optional<NaTile>> CHOSEN = new ConcurrentHashMap<>();

    private static Optional<NaTile> search(int side, int kernelSize, int headDim) {
        if (Math.min(kernelSize, side) > MAX_WINDOW) {
            return Optional.empty();
        }
        NaTile best = null;
        long bestCost = Long.MAX_VALUE;
        for (int r = 1; r <= Math.min(side, MAX_QUERIES); r++) {
            for (int c = 1; c <= Math.min(side, MAX_QUERIES / r); c++) {
                NaTile t = new NaTile(side, kernelSize, headDim, r, c);
                if (t.sharedBytes() > MAX_SHARED_BYTES) {
                    continue;
                }
                long cost = (long) t.tilesPerSlice() * t.keyCapacity() * (t.queryRows() + 32);
                // Ties go to the wider tile: longer contiguous rows to load.
                if (cost < bestCost || cost == bestCost && c > best.cols) {
                    best = t;
                    bestCost = cost;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    public int effectiveKernel() {
        return Math.min(kernelSize, side);
    }

    /** Warps per block: one per 16 query rows. */
    public int warps() {
        return (rows * cols + 15) / 16;
    }

    public int threads() {
        return 32 * warps();
    }

    /** Query rows the block computes, the tile's queries then zero padding. */
    public int queryRows() {
        return 16 * warps();
    }

    /** Key rectangle side bound: a window start grows by at most one per query row. */
    public int maxKeyRows() {
        return Math.min(rows + effectiveKernel() - 1, side);
    }

    public int maxKeyCols() {
        return Math.min(cols + effectiveKernel() - 1, side);
    }

    /** Keys staged per block, a multiple of 16 (the wmma tile) that holds every tile's rectangle. */
    public int keyCapacity() {
        return roundUp16(maxKeyRows() * maxKeyCols());
    }

    /** Dynamic shared memory: Q (fp16), K then V (fp16), scores (fp32, overwritten by fp16 P). */
    public int sharedBytes() {
        int ld = headDim + PAD_HALVES;
        return queryRows() * ld * 2 + keyCapacity() * ld * 2 + queryRows() * (keyCapacity() + PAD_FLOATS) * 4;
    }

    public int tilesPerSlice() {
        return ceilDiv(side, rows) * ceilDiv(side, cols);
    }

    /** Blocks for {@code batchHeads} slices: one per (slice, tile). */
    public long blocks(int batchHeads) {
        return (long) batchHeads * tilesPerSlice();
    }

    /**
     * What block {@code index} works on, decoded as the kernel decodes {@code blockIdx.x}: its
     * slice, the first query row and column and the tile's extent inside the map, and the key
     * rectangle that holds every window of its queries.
     */
    public Block block(int index) {
        int tilesC = ceilDiv(side, cols);
        int perSlice = tilesPerSlice();
        int slice = index / perSlice;
        int t = index % perSlice;
        int qr0 = t / tilesC * rows;
        int qc0 = t % tilesC * cols;
        int qcn = Math.min(cols, side - qc0);
        int qrn = Math.min(rows, side - qr0);
        int ke = effectiveKernel();
        int kr0 = NaGeometry.windowStart(qr0, side, kernelSize);
        int kc0 = NaGeometry.windowStart(qc0, side, kernelSize);
        int krn = NaGeometry.windowStart(qr0 + qrn - 1, side, kernelSize) + ke - kr0;
        int kcn = NaGeometry.windowStart(qc0 + qcn - 1, side, kernelSize) + ke - kc0;
        return new Block(slice, qr0, qc0, qrn, qcn, kr0, kc0, krn, kcn);
    }

    /** One block's queries {@code [qr0, qr0 + qrn) x [qc0, qc0 + qcn)} and keys likewise. */
    public record Block(int slice, int qr0, int qc0, int qrn, int qcn, int kr0, int kc0, int krn, int kcn) {
        /** Key count padded to the wmma tile, as the kernel loops over it. */
        public int paddedKeys() {
            return roundUp16(krn * kcn);
        }
    }

    private static int roundUp16(int x) {
        return (x + 15) & ~15;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
