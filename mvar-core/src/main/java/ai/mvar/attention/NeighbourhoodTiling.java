package ai.mvar.attention;

/**
 * The query tile of {@link TiledNeighbourhoodKernel}: {@code rows x cols} map positions per tile
 * ({@code cols} = the map side: tiles of whole rows, whose queries and keys are contiguous).
 *
 * <p>{@link #choose} is a cost model. A tile of {@code tq} queries over a band of {@code tk} keys
 * costs its score elements ({@code B H tq tk}: two matrix products of depth {@code d}, then the
 * mask, the softmax and a type cast, each one pass), the gathering of its queries, keys and values
 * when the tile does not span whole rows, and a fixed overhead per tile (about ten engine calls).
 * Small tiles waste least work on keys outside the windows (a band has {@code (rows + k - 1) x
 * (cols + k - 1)} keys for {@code k^2} useful ones per query) but pay the overhead more often;
 * whole-row tiles need no gathering but their bands grow with the map side. The cheapest shape
 * whose scores fit {@link #SCORE_BUDGET_BYTES} wins; a tile as large as the map is plain masked
 * dense attention, which small maps choose.
 *
 * <p>The CPU constants were fitted to timings on the project's 2-core machine; the GPU ones are
 * estimates (launch overhead against memory bandwidth) until measured.
 */
public record NeighbourhoodTiling(int rows, int cols) {
    /** Largest score array (per tile, fp32) a tile may create: bounds the kernel's memory. */
    public static final long SCORE_BUDGET_BYTES = 64L << 20;

    /**
     * Fitted (least squares, relative error) to 41 timings of 6 map sides (13 to 64) and 6 to 9 tiles
     * each, B x H = 32, d = 64, 2 threads: 2.0 ns per score element (split as 128 multiply-adds
     * and the elementwise passes), 0.19 ns per gathered value, 207 us per tile.
     */
    private static final Costs CPU = new Costs(0.0117, 0.5, 0.19, 207_000);
    /** Estimates for a datacenter GPU (launch overhead ~10 us per call, memory-bound passes), not yet fitted. */
    private static final Costs GPU = new Costs(0.00002, 0.005, 0.002, 100_000);

    public NeighbourhoodTiling {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("tile must be at least 1x1, got " + rows + "x" + cols);
        }
    }

    /**
     * Nanoseconds per multiply-add of the two products, per score element of the elementwise passes,
     * per gathered value, and per tile.
     */
    private record Costs(double perMac, double perScore, double perGathered, double perTile) {}

    /**
     * The cheapest tile for a {@code side x side} map with window {@code kernelSize}, {@code batchHeads}
     * = batch x heads attention maps of head dimension {@code headDim}.
     */
    public static NeighbourhoodTiling choose(int side, int kernelSize, long batchHeads, long headDim, boolean gpu) {
        Costs c = gpu ? GPU : CPU;
        NeighbourhoodTiling best = null;
        double bestCost = Double.MAX_VALUE;
        long bestPeak = Long.MAX_VALUE;
        for (int rows = 1; rows <= side; rows = next(rows, side)) {
            for (int cols : new int[] {side, Math.min(rows, side)}) {
                NeighbourhoodTiling t = new NeighbourhoodTiling(rows, cols);
                double cost = t.cost(side, kernelSize, batchHeads, headDim, c);
                long peak = t.largestScores(side, kernelSize, batchHeads);
                boolean fits = peak <= SCORE_BUDGET_BYTES;
                boolean bestFits = bestPeak <= SCORE_BUDGET_BYTES;
                // Within the budget the cheapest wins; if nothing fits, the smallest scores.
                if (best == null || (fits && (!bestFits || cost < bestCost)) || (!fits && !bestFits && peak < bestPeak)) {
                    best = t;
                    bestCost = cost;
                    bestPeak = peak;
                }
            }
        }
        return best;
    }

    /** Tile sides tried: every side up to 8, then steps of about a quarter, and the map side. */
    private static int next(int rows, int side) {
        if (rows >= side) {
            return side + 1;
        }
        return Math.min(side, rows < 8 ? rows + 1 : rows + Math.max(1, rows / 4));
    }

    /** The model's cost in nanoseconds of one attention with this tiling. */
    double cost(int side, int kernelSize, long batchHeads, long headDim, Costs c) {
        boolean wholeRows = cols >= side;
        double total = 0;
        for (Band rowBand : Band.all(side, kernelSize, rows)) {
            for (Band colBand : Band.all(side, kernelSize, wholeRows ? side : cols)) {
                double queries = (double) rowBand.queries * colBand.queries;
                double keys = (double) rowBand.keys * colBand.keys;
                double scores = batchHeads * queries * keys;
                total += scores * (2 * headDim * c.perMac + c.perScore) + c.perTile;
                if (!wholeRows) {
                    total += batchHeads * (queries + 2 * keys) * headDim * c.perGathered;
                }
            }
        }
        return total;
    }

    /** Bytes of the largest tile's fp32 scores. */
    public long largestScores(int side, int kernelSize, long batchHeads) {
        long keyRows = Band.all(side, kernelSize, rows).stream().mapToLong(b -> b.keys).max().orElseThrow();
        long keyCols = cols >= side ? side
                : Band.all(side, kernelSize, cols).stream().mapToLong(b -> b.keys).max().orElseThrow();
        long queries = (long) Math.min(rows, side) * Math.min(cols, side);
        return 4L * batchHeads * queries * keyRows * keyCols;
    }

    /** One tile's extent along one axis: its queries and the keys their windows cover. */
    private record Band(int queries, int keys) {
        static java.util.List<Band> all(int side, int kernelSize, int tile) {
            int span = NeighbourhoodWindow.span(side, kernelSize);
            java.util.List<Band> bands = new java.util.ArrayList<>();
            for (int i0 = 0; i0 < side; i0 += tile) {
                int i1 = Math.min(side, i0 + tile);
                int keys = NeighbourhoodWindow.start(i1 - 1, side, kernelSize) + span
                        - NeighbourhoodWindow.start(i0, side, kernelSize);
                bands.add(new Band(i1 - i0, keys));
            }
            return bands;
        }
    }
}
