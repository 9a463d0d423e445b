package ai.mvar.attention;

import ai.djl.ndarray.NDArray;

/**
 * Neighbourhood attention on one square token map: query (i, j) attends to the k x k keys whose
 * window starts at {@code clamp(i - k/2, 0, p - k)} (same for columns), or to all keys when
 * {@code p < k}; NATTEN's {@code na2d} with dilation 1.
 *
 * <p>Layout, shared by every implementation: {@code q, k, v} are {@code [B, heads, p*p, headDim]}
 * with tokens in row-major map order; the result has the same shape. Attention weights are
 * {@code softmax(scale * q·k)}.
 */
public interface NeighbourhoodKernel {

    /** Attention output {@code [B, heads, p*p, headDim]}. */
    NDArray forward(NDArray q, NDArray k, NDArray v, int side, int kernelSize, float scale);

    /** Whether this implementation can run on the arrays' device and dtype. */
    boolean supports(NDArray q);

    /**
     * Whether the output carries autograd history, so a backward pass reaches q, k and v. Kernels
     * built from engine operations do; a fused kernel that writes raw device memory does not, and
     * is never chosen while gradients are being recorded.
     */
    default boolean differentiable() {
        return false;
    }

    /** A short name for logs and benchmarks. */
    String name();
}
