package ai.mvar.sampling;

import ai.mvar.attention.NeighbourhoodTiling;
import ai.mvar.config.Preset;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;

/**
 * A back-of-the-envelope estimate of the memory sampling needs, from the sizes alone (nothing is
 * allocated). It counts what dominates, not every temporary; {@code mvar bench} measures the real
 * thing. With {@code b} values per number (4 for fp32):
 *
 * <pre>
 * B2          = 2 B with classifier-free guidance (always for VAR), else B
 * weights     = (transformer + tokenizer parameters) b
 * KV cache    = VAR: 2 depth B2 L C b;   MVAR: 0
 * activations = max over scales s of  B2 N_s (6 C + 2 H) b  +  2 B2 heads S_s b  +  2 B2 N_s V 4
 *               S_s = scores of one attention: VAR N_s L_s (L_s the tokens of scales 0..s);
 *                     MVAR N_s^2 below refine_step, from it on one tile's queries x band keys
 *                     (the tile {@link NeighbourhoodTiling} chooses); scores and their softmax live together
 * decoder     = 4 B ch ch_mult[0] S^2 4   (the decoder's full-resolution level, fp32)
 * total       = weights + KV cache + max(activations, decoder)
 * </pre>
 *
 * with L all tokens, N_s the tokens of scale s, C the width, H the MLP width, V the vocabulary and
 * S the image side. One layer's activations are alive at a time (each layer runs in its own scope).
 */
public record MemoryEstimate(Mode mode, int batch, long weightBytes, long kvCacheBytes, long activationBytes,
        long decoderBytes) {

    /** The formula, for help texts. */
    public static final String FORMULA =
            "B2 = 2B with guidance (always for VAR), else B;  b = 4 bytes (fp32)\n" +
            "weights     = (transformer + tokenizer parameters) * b\n" +
            "KV cache    = VAR: 2 * depth * B2 * L * C * b;  MVAR: 0\n" +
            "activations = max over scales s of\n" +
            "              B2*N_s*(6C + 2H)*b + 2*B2*heads*S_s*b + 2*B2*N_s*V*4\n" +
            "              S_s = scores of one attention: VAR N_s * (tokens of\n" +
            "                    scales 0..s); MVAR N_s^2 below refine_step, from it\n" +
            "                    on one tile's queries x band keys (the tiled\n" +
            "                    neighbourhood attention's tile, <= 64 MiB of scores)\n" +
            "decoder     = 4 * B * ch * ch_mult[0] * S^2 * 4\n" +
            "total       = weights + KV cache + max(activations, decoder)\n" +
            "(L tokens, N_s tokens of scale s, C width, H MLP width, V vocabulary,\n" +
            " S image side)";

    /** The estimate for sampling {@code batch} images of {@code preset} in {@code mode}. */
    public static MemoryEstimate of(Preset preset, Mode mode, int batch, int bytesPerValue) {
        TransformerConfig t = preset.transformer();
        VqVaeConfig v = preset.tokenizer();
        ScaleSchedule s = t.schedule();
        long b = bytesPerValue;
        boolean guided = mode == Mode.VAR || preset.sampling().cfg() != 1.0;
        long b2 = guided ? 2L * batch : batch;
        long weights = (Transformer.spec(t).parameterCount() + VqVae.spec(v).parameterCount()) * b;
        long kv = mode == Mode.VAR ? 2L * t.depth() * b2 * s.length() * t.width() * b : 0;
        long act = 0;
        for (int scale = 0; scale < s.scales(); scale++) {
            long n = s.tokens(scale);
            long perMap;
            if (mode == Mode.VAR) {
                perMap = n * s.end(scale);
            } else if (scale < t.refineStep()) {
                perMap = n * n;
            } else {
                int side = s.side(scale);
                perMap = NeighbourhoodTiling.choose(side, t.kernelSize(), b2 * t.heads(), t.headDim(), false)
                        .largestScores(side, t.kernelSize(), 1) / 4;
            }
            long layer = b2 * n * (6L * t.width() + 2L * t.hiddenWidth()) * b;
            long scores = 2 * b2 * t.heads() * perMap * b;
            long logits = 2 * b2 * n * t.vocabSize() * 4;
            act = Math.max(act, layer + scores + logits);
        }
        long side = v.imageSize();
        long decoder = 4L * batch * v.channels() * v.channelMultipliers()[0] * side * side * 4;
        return new MemoryEstimate(mode, batch, weights, kv, act, decoder);
    }

    public long totalBytes() {
        return weightBytes + kvCacheBytes + Math.max(activationBytes, decoderBytes);
    }
}
