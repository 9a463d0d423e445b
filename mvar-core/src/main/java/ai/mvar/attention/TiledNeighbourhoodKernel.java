package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Tensors;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Neighbourhood attention by tiles of queries: a {@code rows x cols} tile of the map attends to the
 * band of keys its windows cover, at most {@code (rows + k - 1) x (cols + k - 1)}, through two
 * matrix products and a small additive mask that hides, for each query, the band's keys outside
 * its window. The work stays in matrix products, and memory is bounded by one tile's scores instead
 * of the map's {@code N x N}. A tile as large as the map is dense attention under the window mask.
 *
 * <p>Engine operations only: it runs on any device and type and is differentiable. The products run
 * in the inputs' type, the softmax in fp32 (see {@link DenseAttention}). The tile comes from
 * {@link NeighbourhoodTiling#choose}, a cost model, unless a caller fixes it.
 */
public final class TiledNeighbourhoodKernel implements NeighbourhoodKernel {
    public static final TiledNeighbourhoodKernel INSTANCE = new TiledNeighbourhoodKernel();
    private static final Map<MaskKey, float[]> MASKS = new ConcurrentHashMap<>();

    private TiledNeighbourhoodKernel() {}

    @Override
    public NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale) {
        Shape s = checkShapes(q, k, v, side);
        NeighbourhoodTiling tiling = NeighbourhoodTiling.choose(side, kernelSize, s.get(0) * s.get(1), s.get(3),
                q.getDevice().isGpu());
        return forward(q, k, v, side, kernelSize, scale, tiling);
    }

    /** The attention with a given tiling (any tile shape gives the same result). */
    public NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale,
            NeighbourhoodTiling tiling) {
        Shape s = checkShapes(q, k, v, side);
        int span = NeighbourhoodWindow.span(side, kernelSize);
        if (tiling.cols() >= side) {
            return byRowBands(q, k, v, side, kernelSize, span, scale, tiling.rows());
        }
        long b = s.get(0);
        long h = s.get(1);
        long d = s.get(3);
        NDArray q5 = q.reshape(b, h, side, side, d);
        NDArray k5 = k.reshape(b, h, side, side, d);
        NDArray v5 = v.reshape(b, h, side, side, d);
        NDList tileRows = new NDList();
        for (int r0 = 0; r0 < side; r0 += tiling.rows()) {
            int r1 = Math.min(side, r0 + tiling.rows());
            int kr0 = NeighbourhoodWindow.start(r0, side, kernelSize);
            int kr1 = NeighbourhoodWindow.start(r1 - 1, side, kernelSize) + span;
            NDList tiles = new NDList();
            for (int c0 = 0; c0 < side; c0 += tiling.cols()) {
                int c1 = Math.min(side, c0 + tiling.cols());
                int kc0 = NeighbourhoodWindow.start(c0, side, kernelSize);
                int kc1 = NeighbourhoodWindow.start(c1 - 1, side, kernelSize) + span;
                NDArray out;
                try (NDArray qt = block(q5, r0, r1, c0, c1);
                        NDArray kt = block(k5, kr0, kr1, kc0, kc1);
                        NDArray vt = block(v5, kr0, kr1, kc0, kc1);
                        NDArray mask = mask(q, side, kernelSize, r0, r1, c0, c1)) {
                    out = DenseAttention.attend(qt, kt, vt, scale, mask);
                }
                tiles.add(out.reshape(b, h, r1 - r0, c1 - c0, d));
                out.close();
            }
            tileRows.add(NDArrays.concat(tiles, 3));
            tiles.close();
        }
        NDArray out = NDArrays.concat(tileRows, 2);
        tileRows.close();
        NDArray flat = out.reshape(b, h, (long) side * side, d);
        Functions.closeIfDistinct(out, flat);
        return flat;
    }

    /**
     * Tiles of whole map rows: queries and keys are contiguous ranges of tokens, so tiles are views
     * and nothing is gathered.
     */
    private static NDArray byRowBands(NDArray q, NDArray k, NDArray v, int side, int kernelSize, int span, float scale,
            int rows) {
        NDList parts = new NDList();
        for (int r0 = 0; r0 < side; r0 += rows) {
            int r1 = Math.min(side, r0 + rows);
            int kr0 = NeighbourhoodWindow.start(r0, side, kernelSize);
            int kr1 = NeighbourhoodWindow.start(r1 - 1, side, kernelSize) + span;
            try (NDArray qt = tokens(q, r0 * side, r1 * side);
                    NDArray kt = tokens(k, kr0 * side, kr1 * side);
                    NDArray vt = tokens(v, kr0 * side, kr1 * side);
                    NDArray mask = mask(q, side, kernelSize, r0, r1, 0, side)) {
                parts.add(DenseAttention.attend(qt, kt, vt, scale, mask));
            }
        }
        if (parts.size() == 1) {
            return parts.singletonOrThrow();
        }
        NDArray out = NDArrays.concat(parts, 2);
        parts.close();
        return out;
    }

    private static NDArray tokens(NDArray x, int from, int to) {
        return x.get(new NDIndex(":, :, {}:{}", from, to));
    }

    /** Rows {@code [r0, r1)} and columns {@code [c0, c1)} of a {@code [B, H, p, p, D]} map, as {@code [B, H, n, D]}. */
    private static NDArray block(NDArray map, int r0, int r1, int c0, int c1) {
        Shape s = map.getShape();
        try (NDArray view = map.get(new NDIndex(":, :, {}:{}, {}:{}", r0, r1, c0, c1))) {
            return view.reshape(s.get(0), s.get(1), (long) (r1 - r0) * (c1 - c0), s.get(4));
        }
    }

    /**
     * The additive mask of the query tile rows {@code [r0, r1)} x columns {@code [c0, c1)} over its
     * key band, in the type of {@code like}: 0 where a query's window holds the key, -inf elsewhere.
     */
    private static NDArray mask(NDArray like, int side, int kernelSize, int r0, int r1, int c0, int c1) {
        MaskKey key = new MaskKey(side, kernelSize, r0, r1, c0, c1);
        float[] bias = MASKS.computeIfAbsent(key, MaskKey::build);
        int queries = (r1 - r0) * (c1 - c0);
        NDArray mask = Tensors.of(like.getManager(), bias, new Shape(queries, bias.length / queries));
        NDArray typed = mask.toType(like.getDataType(), false);
        Functions.closeIfDistinct(mask, typed);
        return typed;
    }

    private record MaskKey(int side, int kernelSize, int r0, int r1, int c0, int c1) {
        float[] build() {
            int span = NeighbourhoodWindow.span(side, kernelSize);
            int kr0 = NeighbourhoodWindow.start(r0, side, kernelSize);
            int kc0 = NeighbourhoodWindow.start(c0, side, kernelSize);
            int bandRows = NeighbourhoodWindow.start(r1 - 1, side, kernelSize) + span - kr0;
            int bandCols = NeighbourhoodWindow.start(c1 - 1, side, kernelSize) + span - kc0;
            int keys = bandRows * bandCols;
            float[] bias = new float[(r1 - r0) * (c1 - c0) * keys];
            Arrays.fill(bias, Float.NEGATIVE_INFINITY);
            int query = 0;
            for (int i = r0; i < r1; i++) {
                int rs = NeighbourhoodWindow.start(i, side, kernelSize) - kr0;
                for (int j = c0; j < c1; j++, query++) {
                    int cs = NeighbourhoodWindow.start(j, side, kernelSize) - kc0;
                    for (int r = rs; r < rs + span; r++) {
                        Arrays.fill(bias, query * keys + r * bandCols + cs, query * keys + r * bandCols + cs + span, 0f);
                    }
                }
            }
            return bias;
        }
    }

    private static Shape checkShapes(NDArray q, NDArray k, NDArray v, int side) {
        Shape s = q.getShape();
        if (s.dimension() != 4 || s.get(2) != (long) side * side || !k.getShape().equals(s) || !v.getShape().equals(s)) {
            throw new IllegalArgumentException("neighbourhood attention on a " + side + "x" + side + " map needs q, k, v of"
                    + " [B, H, " + side * side + ", D], got " + s + ", " + k.getShape() + ", " + v.getShape());
        }
        return s;
    }

    @Override
    public boolean supports(NDArray q) {
        return true;
    }

    @Override
    public boolean differentiable() {
        return true;
    }

    @Override
    public String name() {
        return "tiled";
    }
}
