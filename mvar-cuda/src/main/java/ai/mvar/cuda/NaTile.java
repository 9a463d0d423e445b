package ai.mvar.cuda;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Launch shape of the tiled tensor-core forward ({@code na_fwd_tc_f16_d<D>}): each block computes
 * a {@code rows x cols} tile of queries of one slice, with {@code warps} warps of 16 queries each,
 * and stages in shared memory the rectangle of keys (K and V) its queries can see, padded to
 * {@code keyCapacity} keys; each warp walks, in chunks of 16, the rectangle rows its own queries'
 * windows cover.
 *
 * <p>{@link #sharedBytes} and {@link #block} are the Java twin of the kernel's shared-memory
 * layout and of its decoding of {@code blockIdx.x}; a change to either must be made in both places.
 */
public record NaTile(int side, int kernelSize, int headDim, int rows, int cols) {

    /** Widest window the kernel takes: wider ones need more shared memory than most tiles get. */
    public static final int MAX_WINDOW = 13;
    /** Most queries per block: eight warps of 16 queries (the kernel's launch bound, 256 threads). */
    public static final int MAX_QUERIES = 128;
    /**
     * Shared memory any tile may use, requested once per function with
     * {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}: the per-block limit of compute
     * capability 8.6 and 8.9, the smallest of those that load the compute_80 PTX (8.0 allows
     * 163 KB, 9.0 227 KB), and two blocks still fit a 9.0 SM (228 KB).
     */
    public static final int MAX_SHARED_BYTES = 99 * 1024;
    /** fp16 rows are padded by 8 halves (16 bytes). */
    static final int PAD_HALVES = 8;

    public NaTile {
        if (rows < 1 || cols < 1 || rows > side || cols > side || rows * cols > MAX_QUERIES) {
            throw new IllegalArgumentException("tile " + rows + "x" + cols + " on a " + side + " map");
        }
    }

    /**
     * The tile with the least {@link #cost} for this problem among those whose shared memory fits
     * {@link #MAX_SHARED_BYTES}, or empty when the window is wider than {@link #MAX_WINDOW}.
     */
    public static Optional<NaTile> choose(int side, int kernelSize, int headDim) {
        long key = ((long) side << 40) | ((long) kernelSize << 20) | headDim;
        return CHOSEN.computeIfAbsent(key, x -> candidates(side, kernelSize, headDim).stream().findFirst());
    }

    /** Memo of {@link #choose}: asked at every launch, searched once per problem shape. */
    private static final Map<Long, Optional<NaTile>> CHOSEN = new ConcurrentHashMap<>();

    /**
     * Every tile that fits and fills at least one warp, cheapest first (ties to the wider tile:
     * longer contiguous rows to load); empty when the window is wider than {@link #MAX_WINDOW} or no
     * such tile fits (head dim 128 with windows of 11 or 13 on maps wider than the window: the K
     * and V rectangles of 16 queries exceed the shared memory). The benchmark times the first few,
     * to check the cost model.
     */
    public static List<NaTile> candidates(int side, int kernelSize, int headDim) {
        List<NaTile> fit = new ArrayList<>();
        if (Math.min(kernelSize, side) > MAX_WINDOW) {
            return fit;
        }
        for (int r = 1; r <= Math.min(side, MAX_QUERIES); r++) {
            for (int c = 1; c <= Math.min(side, MAX_QUERIES / r); c++) {
                NaTile t = new NaTile(side, kernelSize, headDim, r, c);
                if (t.sharedBytes() <= MAX_SHARED_BYTES && r * c >= Math.min(16, side * side)) {
                    fit.add(t);
                }
            }
        }
        fit.sort(Comparator.comparingLong(NaTile::cost).thenComparing(Comparator.comparingInt(NaTile::cols).reversed()));
        return fit;
    }

    /**
     * Estimated time per slice, in units of one head-dim row moved through shared memory: a row
     * brought in from L2 (K and V per rectangle key, Q in and O out per query row) counts 5, the
     * L2-to-SM bandwidth being about a fifth of shared memory's; each 16-key chunk a warp walks
     * reads 32 rows (16 of K, 16 of V) and does their tensor-core and softmax work. Scaled by
     * {@code (w + 8) / w} for {@code w} {@link #residentWarps}: few warps hide the loads poorly.
     */
    long cost() {
        long work = tilesPerSlice() * (10L * (keyCapacity() + queryRows()) + 32L * chunks());
        return work * (residentWarps() + 8) / residentWarps();
    }

    /**
     * Warps of this tile that fit one SM of compute capability 9.0: 228 KB of shared memory, 1 KB
     * of it reserved per block, and the registers the kernel's launch bound leaves (24 warps at
     * 80 registers for head dims 32 and 64, 16 at 128 for head dim 128).
     */
    int residentWarps() {
        int byShared = 228 * 1024 / (sharedBytes() + 1024);
        int byRegisters = (headDim == 128 ? 16 : 24) / warps();
        return Math.max(1, Math.min(byShared, byRegisters)) * warps();
    }

    /**
     * Chunks of 16 rectangle keys the block's warps walk, for a full tile: warp w's queries span
     * some map rows, their windows {@code spanned + ke - 1} key rows of the rectangle, one more
     * chunk when those rows do not start on a multiple of 16.
     */
    int chunks() {
        int kcn = maxKeyCols();
        int total = 0;
        for (int m0 = 0; m0 < rows * cols; m0 += 16) {
            int last = Math.min(m0 + 15, rows * cols - 1);
            int keyRows = Math.min(last / cols - m0 / cols + effectiveKernel(), maxKeyRows());
            total += (keyRows * kcn + 15) / 16 + (kcn % 16 == 0 ? 0 : 1);
        }
        return total;
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

    /**
     * Most key rows any block's rectangle has: at most {@code rows + ke - 1} (a window start grows
     * by at most one per query row), fewer where tiles touch the map's edge.
     */
    public int maxKeyRows() {
        return maxKeySpan(rows);
    }

    public int maxKeyCols() {
        return maxKeySpan(cols);
    }

    private int maxKeySpan(int tile) {
        int ke = effectiveKernel();
        int max = 0;
        for (int start = 0; start < side; start += tile) {
            int last = Math.min(start + tile, side) - 1;
            max = Math.max(max, NaGeometry.windowStart(last, side, kernelSize) + ke
                    - NaGeometry.windowStart(start, side, kernelSize));
        }
        return max;
    }

    /** Keys staged per block, a multiple of 16 (the wmma tile) that holds every tile's rectangle. */
    public int keyCapacity() {
        return roundUp16(maxKeyRows() * maxKeyCols());
    }

    /** Dynamic shared memory: K and V rectangles, then each warp's Q rows (all fp16, padded rows). */
    public int sharedBytes() {
        return (2 * keyCapacity() + queryRows()) * (headDim + PAD_HALVES) * 2;
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
