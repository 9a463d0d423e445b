package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.mvar.nn.Tensors;

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
        // Token-major layout, so gathering a window is a row lookup on the first axis.
        NDArray query = tokenMajor(Functions.scale(q, scale)).reshape(n, 1, b, heads, d);
        NDArray keys = tokenMajor(k).reshape(n, -1);
        NDArray values = tokenMajor(v).reshape(n, -1);
        // Each slab is closed as soon as it is used: closing drops only this handle, and autograd
        // keeps its own reference to whatever the backward pass needs.
        NDList scores = new NDList(span);
        for (NDArray row : rows) {
            try (NDArray slab = rowsOf(keys, row).reshape(n, span, b, heads, d);
                    NDArray product = slab.mul(query)) {
                scores.add(product.sum(new int[] {-1})); // [N, span, B, H]
            }
        }
        // [N, span^2, B, H, 1]; softmax in fp32, weights back in the values' type (autocast's rule)
        NDArray weights = Functions.cast(Functions.softmax(NDArrays.concat(scores, 1), 1), v.getDataType()).expandDims(-1);
        scores.close();
        NDArray out = null;
        for (int r = 0; r < span; r++) {
            try (NDArray slab = rowsOf(values, rows[r]).reshape(n, span, b, heads, d);
                    NDArray w = weights.get(new NDIndex(":, {}:{}", r * span, (r + 1) * span));
                    NDArray product = slab.mul(w)) {
                NDArray part = product.sum(new int[] {1}); // [N, B, H, D]
                if (out == null) {
                    out = part;
                } else {
                    NDArray sum = out.add(part);
                    out.close();
                    part.close();
                    out = sum;
                }
            }
            rows[r].close();
        }
        weights.close();
        query.close();
        keys.close();
        values.close();
        return out.transpose(1, 2, 0, 3); // back to [B, H, N, D]
    }

    /** {@code table[index]} by embedding lookup, PyTorch's fastest row gather (and differentiable). */
    private static NDArray rowsOf(NDArray table, NDArray index) {
        return Embedding.embedding(index, table, SparseFormat.DENSE).singletonOrThrow();
    }

    private static NDArray tokenMajor(NDArray x) {
        return x.transpose(2, 0, 1, 3); // [N, B, H, D]
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
            rows[r] = Tensors.of(like.getManager(), row);
        }
        return rows;
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
        return "gathered";
    }
}
