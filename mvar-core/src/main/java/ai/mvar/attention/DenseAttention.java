package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;

/**
 * {@code softmax(scale * q kᵀ + bias) v}: the dense computation behind the block masks. The
 * products run in the inputs' type, the softmax in fp32 (autocast's rule).
 */
public final class DenseAttention {
    private DenseAttention() {}

    /**
     * @param bias additive {@code [Nq, Nk]} mask (0 or -inf), or null for none
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, float scale, NDArray bias) {
        NDArray scores = Functions.scale(q, scale).matMul(k.swapAxes(-2, -1));
        if (bias != null) {
            scores = scores.add(bias);
        }
        return Functions.cast(Functions.softmax(scores, -1), v.getDataType()).matMul(v);
    }
}
