package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.mvar.attention.AttentionPattern;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Linear;
import ai.mvar.nn.Params;
import ai.mvar.nn.Scope;

/**
 * A transformer block with adaptive layer norm: the class embedding sets, per block, the gains,
 * scales and shifts around attention and FFN ({@code ada_lin = SiLU -> Linear(C, 6C)}).
 */
final class AdaLnBlock {
    private final TransformerConfig config;
    private final Linear adaLin;
    private final SelfAttention attn;
    private final FeedForward ffn;

    AdaLnBlock(Params p, TransformerConfig c) {
        config = c;
        attn = new SelfAttention(p.child("attn"), c);
        ffn = new FeedForward(p.child("ffn"), c);
        adaLin = new Linear(p.child("ada_lin.1"), c.width(), 6 * c.width(), true);
    }

    /**
     * @param x tokens {@code [B, N, C]}
     * @param cond class embeddings {@code [B, C]}
     */
    NDArray forward(NDArray x, NDArray cond, AttentionPattern pattern, KvCache cache, int block) {
        int w = config.width();
        // gamma1, gamma2, scale1, scale2, shift1, shift2, each [B, 1, C]
        NDArray ada = adaLin.forward(Functions.silu(cond)).reshape(-1, 1, 6, w);
        NDArray gamma1 = ada.get(":, :, 0");
        NDArray gamma2 = ada.get(":, :, 1");
        NDArray scale1 = ada.get(":, :, 2");
        NDArray scale2 = ada.get(":, :, 3");
        NDArray shift1 = ada.get(":, :, 4");
        NDArray shift2 = ada.get(":, :, 5");
        // Each half runs in its own scope: its intermediates are freed before the next one starts.
        NDArray attended = Scope.layer(x, in -> Functions.mulConsuming(
                attn.forward(modulate(in, scale1, shift1), pattern, cache, block), gamma1));
        NDArray mid = x.add(attended);
        attended.close();
        NDArray fed = Scope.layer(mid, in -> Functions.mulConsuming(ffn.forward(modulate(in, scale2, shift2)), gamma2));
        NDArray out = mid.add(fed);
        fed.close();
        mid.close();
        return out;
    }

    static NDArray modulate(NDArray x, NDArray scale, NDArray shift) {
        NDArray normed = Functions.layerNorm(x, TransformerConfig.NORM_EPS);
        return Functions.addConsuming(Functions.mulConsuming(normed, scale.add(1)), shift);
    }
}
