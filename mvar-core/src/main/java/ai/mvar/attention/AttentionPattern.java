package ai.mvar.attention;

import ai.djl.ndarray.NDArray;

/**
 * Who may attend to whom among the tokens of one forward pass, and the attention computed under
 * that rule. Queries, keys and values are {@code [B, heads, N, headDim]}; attention weights are
 * {@code softmax(scale * q·k)} over the keys a query may see.
 *
 * <p>Implementations: {@link BlockCausalMask} (VAR), {@link BlockDiagonalMask} (MVAR scales below
 * refine_step) and {@link NeighbourhoodAttention} (MVAR scales from refine_step on). {@link #FULL}
 * lets every query see every key: one scale alone, or a VAR step against its KV cache.
 */
public interface AttentionPattern {

    /** No mask. */
    AttentionPattern FULL = (q, k, v, scale) -> DenseAttention.attend(q, k, v, scale, null);

    /** Attention output {@code [B, heads, Nq, headDim]}. */
    NDArray attend(NDArray q, NDArray k, NDArray v, float scale);
}
