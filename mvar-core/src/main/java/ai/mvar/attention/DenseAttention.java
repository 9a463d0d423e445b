package ai.mvar.attention;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Functions;

/**
 * {@code softmax(scale * q kᵀ + bias) v}: the dense computation behind the block masks and each
 * tile of {@link TiledNeighbourhoodKernel}. The products run in the inputs' type, the softmax in
 * fp32 (autocast's rule). Each intermediate is freed as soon as the next one exists, so at most
 * two score-sized arrays are alive at once.
 */
public final class DenseAttention {
    private DenseAttention() {}

    /**
     * @param bias additive {@code [Nq, Nk]} mask (0 or -inf), or null for none
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, float scale, NDArray bias) {
        // scale 1 (the L2-normalised attention of every official model) is skipped: x * 1 == x.
        NDArray scaled = scale == 1f ? q : Functions.scale(q, scale);
        NDArray scores = scaled.matMul(k.swapAxes(-2, -1));
        Functions.closeIfDistinct(scaled, q);
        if (bias != null) {
            scores = Functions.addConsuming(scores, bias);
        }
        NDArray weights = Functions.softmax(scores, -1);
        Functions.closeIfDistinct(scores, weights);
        NDArray typed = Functions.cast(weights, v.getDataType());
        Functions.closeIfDistinct(weights, typed);
        NDArray out = typed.matMul(v);
        typed.close();
        return out;
    }
}
