package ai.mvar.model;

import ai.djl.ndarray.NDArray;
import ai.mvar.nn.Tensors;
import ai.djl.ndarray.types.Shape;
import ai.mvar.attention.AttentionPattern;
import ai.mvar.nn.Functions;
import ai.mvar.nn.Linear;
import ai.mvar.nn.Params;

/**
 * Multi-head self-attention of a VAR block: qkv projection with biases {@code (q_bias, 0,
 * v_bias)}, optionally L2-normalised q and k with a learned per-head temperature, an {@link
 * AttentionPattern}, and an output projection. The normalisation runs in fp32 and q and k go back
 * to the model's precision for the attention, as the reference casts them for NATTEN.
 */
final class SelfAttention {
    private static final double MAX_SCALE_MUL = Math.log(100);

    private final TransformerConfig config;
    private final NDArray qkvWeight;
    private final NDArray qBias;
    private final NDArray vBias;
    private final NDArray scaleMul;
    private final Linear proj;

    SelfAttention(Params p, TransformerConfig c) {
        config = c;
        int w = c.width();
        qkvWeight = p.get("mat_qkv.weight", Params.Init.NORMAL, 3L * w, w);
        qBias = p.get("q_bias", Params.Init.ZEROS, w);
        vBias = p.get("v_bias", Params.Init.ZEROS, w);
        p.buffer("zero_k_bias", w);
        scaleMul = c.attnL2Norm() ? p.get("scale_mul_1H11", Params.Init.LOG4, 1, c.heads(), 1, 1) : null;
        proj = new Linear(p.child("proj"), w, w, true);
    }

    /**
     * @param cache VAR's KV cache with this block's index, or null
     */
    NDArray forward(NDArray x, AttentionPattern pattern, KvCache cache, int block) {
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        int heads = config.heads();
        int hd = config.headDim();
        NDArray bias = qBias.concat(qBias.zerosLike()).concat(vBias);
        NDArray qkv = ai.djl.nn.core.Linear.linear(Functions.cast(x, qkvWeight.getDataType()), qkvWeight, bias)
                .singletonOrThrow()
                .reshape(b, n, 3, heads, hd)
                .transpose(2, 0, 3, 1, 4); // [3, B, H, N, hd]
        NDArray q = qkv.get(0);
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        if (scaleMul != null) {
            NDArray temperature = Functions.fp32(scaleMul);
            temperature = temperature.minimum(Tensors.scalar(temperature, MAX_SCALE_MUL)).exp();
            q = Functions.cast(Functions.mulConsuming(Functions.l2Normalize(q), temperature), v.getDataType());
            k = Functions.cast(Functions.l2Normalize(k), v.getDataType());
        }
        if (cache != null) {
            NDArray[] kv = cache.append(block, k, v);
            k = kv[0];
            v = kv[1];
        }
        NDArray out = pattern.attend(q, k, v, config.attentionScale()); // [B, H, N, hd]
        return proj.forward(out.transpose(0, 2, 1, 3).reshape(b, n, config.width()));
    }
}
