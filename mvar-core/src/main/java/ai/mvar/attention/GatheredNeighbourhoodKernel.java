package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Neighbourhood attention from engine operations, on any device and differentiable. Keys and
 * values are gathered one window row at a time, so besides the {@code [N, k^2]} scores only a
 * {@code [N, k, d]} slab exists at once: time O(N k^2 d), memory O(N k (k + d)), never N x N.
 */
public final class GatheredNeighbourhoodKernel implements NeighbourhoodKernel {
    public static final GatheredNeighbourhoodKernel INSTANCE = new GatheredNeighbourhoodKernel();

    private GatheredNeighbourhoodKernel() {}

    @Override
    public NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale) {
        Shape s = q.getShape();
        long b = s.get(0);
        long heads = s.get(1);
        long n = s.get(2);
        long d = s.get(3);
        if (n != (long) side * side || !k.getShape().equals(s) || !v.getShape().equals(s)) {
            throw new IllegalArgumentException("neighbourhood attention on a " + side + "x" + side + " map needs q, k, v of [B, H, "
                    + side * side + ", D], got " + s + ", " + k.getShape() + ", " + v.getShape());
        }
        int span = NeighbourhoodWindow.span(side, kernelSize);
        NDArray[] rows = rowIndices(q, side, kernelSize, span);
        NDArray query = q.mul(scale).reshape(b, heads, n, 1, d);
        NDList scores = new NDList(span);
        for (NDArray row : rows) {
            NDArray keys = k.get(new NDIndex(":, :, {}", row)).reshape(b, heads, n, span, d);
            scores.add(query.matMul(keys.swapAxes(-1, -2))); // [B, H, N, 1, span]
        }
        NDArray weights = NDArrays.concat(scores, -1).softmax(-1);
        NDArray out = null;
        for (int r = 0; r < span; r++) {
            NDArray values = v.get(new NDIndex(":, :, {}", rows[r])).reshape(b, heads, n, span, d);
            NDArray w = weights.get(new NDIndex("..., {}:{}", r * span, (r + 1) * span));
            NDArray part = w.matMul(values); // [B, H, N, 1, D]
            out = out == null ? part : out.add(part);
        }
        return out.reshape(b, heads, n, d);
    }

    /** For each window row r, the {@code [N * span]} key indices of that row of every query's window. */
    private static NDArray[] rowIndices(NDArray like, int side, int kernelSize, int span) {
        long[] all = NeighbourhoodWindow.keyIndices(side, kernelSize);
        int n = side * side;
        NDArray[] rows = new NDArray[span];
        for (int r = 0; r < span; r++) {
            long[] row = new long[n * span];
            for (int query = 0; query < n; query++) {
                System.arraycopy(all, (query * span + r) * span, row, query * span, span);
            }
            rows[r] = like.getManager().create(row);
        }
        return rows;
    }

    @Override
    public boolean supports(NDArray q) {
        return true;
    }

    @Override
    public String name() {
        return "gathered";
    }
}
