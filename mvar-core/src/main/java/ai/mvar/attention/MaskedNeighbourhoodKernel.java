package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Tensors;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Neighbourhood attention as dense attention under the window mask: O(N^2), but for small maps
 * (N below about k (k + d)) the N x N scores are smaller than the gathered windows, and one large
 * matrix product is faster than many small ones.
 */
public final class MaskedNeighbourhoodKernel implements NeighbourhoodKernel {
    public static final MaskedNeighbourhoodKernel INSTANCE = new MaskedNeighbourhoodKernel();
    private static final Map<Long, float[]> MASKS = new ConcurrentHashMap<>();

    private MaskedNeighbourhoodKernel() {}

    @Override
    public NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale) {
        int n = side * side;
        float[] bias = MASKS.computeIfAbsent(((long) side << 32) | kernelSize, key -> mask(side, kernelSize));
        NDArray b = Tensors.of(q.getManager(), bias, new Shape(n, n)).toType(q.getDataType(), false);
        return DenseAttention.attend(q, k, v, scale, b);
    }

    /** 0 where query (row) sees key (column), -inf elsewhere. */
    private static float[] mask(int side, int kernelSize) {
        int n = side * side;
        int window = NeighbourhoodWindow.span(side, kernelSize) * NeighbourhoodWindow.span(side, kernelSize);
        long[] keys = NeighbourhoodWindow.keyIndices(side, kernelSize);
        float[] bias = new float[n * n];
        Arrays.fill(bias, Float.NEGATIVE_INFINITY);
        for (int query = 0; query < n; query++) {
            for (int w = 0; w < window; w++) {
                bias[query * n + (int) keys[query * window + w]] = 0f;
            }
        }
        return bias;
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
        return "masked";
    }
}
