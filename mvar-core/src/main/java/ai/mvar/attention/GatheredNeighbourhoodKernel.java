package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Neighbourhood attention from engine operations, on any device and differentiable: each query's
 * k x k keys and values are gathered, so time and memory are O(N k^2), never an N x N matrix.
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
        if (n != (long) side * side) {
            throw new IllegalArgumentException("neighbourhood attention on a " + side + "x" + side
                    + " map needs " + side * side + " tokens, got " + s);
        }
        int span = NeighbourhoodWindow.span(side, kernelSize);
        long window = (long) span * span;
        NDArray idx = q.getManager().create(NeighbourhoodWindow.keyIndices(side, kernelSize));
        NDIndex gather = new NDIndex(":, :, {}", idx);
        NDArray kw = k.get(gather).reshape(b, heads, n, window, d);
        NDArray vw = v.get(gather).reshape(b, heads, n, window, d);
        NDArray scores = q.mul(scale).reshape(b, heads, n, 1, d).matMul(kw.swapAxes(-1, -2));
        return scores.softmax(-1).matMul(vw).reshape(b, heads, n, d);
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
